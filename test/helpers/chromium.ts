import { existsSync } from 'node:fs';
import { CHROMIUM, NO_CHROMIUM } from '../../bench/lib/offline-browser';

/**
 * A browser test's precondition: Debian's chromium. Missing, the test fails with one line saying
 * how to install it; it is skipped only where the environment says, with BROWSER_TEST=off, that no
 * such package exists (the pipeline's CodeBuild image is Ubuntu: see buildspec.yml), and says so.
 */
export function needChromium(ctx: Mocha.Context): void {
  if (existsSync(CHROMIUM)) return;
  if (process.env.BROWSER_TEST === 'off') {
    process.stdout.write(`      (browser test skipped: BROWSER_TEST=off and ${NO_CHROMIUM})\n`);
    ctx.skip();
  }
  throw new Error(NO_CHROMIUM);
}
