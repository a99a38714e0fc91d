import { expect } from 'chai';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { reachableBinaries, reachableByOthers } from '../../../trigger/local/reachable-binaries';

describe('local engine: binaries the postgres OS user can reach', () => {
  let root: string;
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'reach-'));
  });
  after(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  async function tree(base: string): Promise<{ initdb: string; postgres: string }> {
    await fs.mkdir(path.join(base, 'native', 'bin'), { recursive: true });
    await fs.mkdir(path.join(base, 'native', 'share'), { recursive: true });
    for (const f of ['initdb', 'postgres']) await fs.writeFile(path.join(base, 'native', 'bin', f), '#!/bin/sh\n', { mode: 0o755 });
    await fs.writeFile(path.join(base, 'native', 'share', 'postgres.bki'), 'x');
    return { initdb: path.join(base, 'native', 'bin', 'initdb'), postgres: path.join(base, 'native', 'bin', 'postgres') };
  }

  it('uses the binaries in place when every directory above them is searchable by others', async () => {
    const open = path.join(root, 'open');
    const bin = await tree(open);
    await fs.chmod(root, 0o755);
    expect(await reachableByOthers(bin.postgres)).to.equal(true);
    expect(await reachableBinaries(bin, root)).to.deep.equal(bin);
  });

  it('copies the whole tree (bin, share) somewhere reachable when a parent directory is private, like /root', async () => {
    const hidden = path.join(root, 'private');
    const bin = await tree(path.join(hidden, 'checkout'));
    await fs.chmod(hidden, 0o700);
    const cache = path.join(root, 'cache');
    await fs.mkdir(cache, { mode: 0o755 });
    const got = await reachableBinaries(bin, cache);
    expect(got.postgres.startsWith(cache)).to.equal(true);
    expect(await reachableByOthers(got.postgres)).to.equal(true);
    expect(await fs.readFile(path.join(path.dirname(path.dirname(got.postgres)), 'share', 'postgres.bki'), 'utf8')).to.equal('x');
    expect(await reachableBinaries(bin, cache), 'reused on the next run').to.deep.equal(got);
  });
});
