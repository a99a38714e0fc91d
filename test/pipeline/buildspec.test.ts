import * as path from 'node:path';
import { expect } from 'chai';
import { BuildSpecError, parseBuildSpec, readBuildSpec } from '../../pipeline/buildspec';
import { ROOT } from '../app/synth';

const VALID = `
version: 0.2
env:
  variables:
    CI: true
    DEPTH: 3
phases:
  install:
    runtime-versions:
      nodejs: 22
    commands:
      - npm ci
  pre_build:
    commands:
      - npm run typecheck
  build:
    commands:
      - npm test
      - npx cdk synth
artifacts:
  base-directory: cdk.out
  files: ['**/*']
`;

function rejection(text: string): string {
  try {
    parseBuildSpec(text);
  } catch (err) {
    expect(err).to.be.instanceOf(BuildSpecError);
    return (err as Error).message;
  }
  throw new Error('expected the buildspec to be rejected');
}

describe('pipeline/buildspec: buildspec.yml becomes the synth step', () => {
  it('reads the repository\'s buildspec.yml: npm ci, then npm test before npx cdk synth, into cdk.out', () => {
    expect(readBuildSpec(path.join(ROOT, 'buildspec.yml'))).to.deep.equal({
      installCommands: ['npm ci --no-audit --no-fund'],
      commands: ['npm test', 'npx cdk synth'],
      runtimeVersions: { nodejs: 22 },
      env: { CI: 'true', BROWSER_TEST: 'off' },
      outputDirectory: 'cdk.out',
    });
  });

  it('runs pre_build commands before build commands, and keeps variables as strings', () => {
    const spec = parseBuildSpec(VALID);
    expect(spec.commands).to.deep.equal(['npm run typecheck', 'npm test', 'npx cdk synth']);
    expect(spec.env).to.deep.equal({ CI: 'true', DEPTH: '3' });
  });

  const cases: Array<[string, string, string]> = [
    ['a cache section', `${VALID}cache:\n  paths: ['/root/.npm/**/*']\n`,
      'buildspec.yml: cache cannot be expressed in the pipeline\'s synth step; use version, env, phases, artifacts only'],
    ['a post_build phase', VALID.replace('  build:\n', '  post_build:\n    commands: [echo]\n  build:\n'),
      'buildspec.yml: phases post_build cannot be expressed in the pipeline\'s synth step; use install, pre_build, build'],
    ['finally blocks', VALID.replace('  build:\n    commands:', '  build:\n    finally: [echo]\n    commands:'),
      'buildspec.yml: phases.build.finally cannot be expressed in the pipeline\'s synth step'],
    ['secrets in env', VALID.replace('env:\n', 'env:\n  secrets-manager:\n    TOKEN: x\n'),
      'buildspec.yml: env.secrets-manager cannot be expressed in the pipeline\'s synth step; use env.variables'],
    ['another version', VALID.replace('version: 0.2', 'version: 0.1'), 'buildspec.yml: version must be 0.2, got 0.1'],
    ['a build that never synthesizes', VALID.replace('- npx cdk synth', '- npm run build'),
      'buildspec.yml: phases.build.commands never run cdk synth: the pipeline needs the cloud assembly it produces'],
    ['a command that is not a string', VALID.replace('- npm test', '- { run: npm test }'), 'buildspec.yml: phases.build.commands must be a list of commands'],
    ['no artifact directory', VALID.replace('  base-directory: cdk.out\n', ''),
      'buildspec.yml: artifacts.base-directory must name the cloud assembly directory (cdk.out)'],
    ['invalid YAML', 'version: 0.2\nphases: [', 'buildspec.yml: not valid YAML'],
  ];
  for (const [what, text, expected] of cases) {
    it(`rejects ${what} with one line naming the key`, () => {
      const message = rejection(text);
      expect(message).to.satisfy((m: string) => m.startsWith(expected), message);
      expect(message).not.to.include('\n');
    });
  }
});
