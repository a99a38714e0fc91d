import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import * as path from 'node:path';
import type { WorkerConfig } from '../../handlers/config';
import { StaticCredentials } from '../../handlers/db/credentials';
import { WireConnection } from '../../handlers/db/wire';
import { Pools } from '../../handlers/db/pools';
import { pemBlocks, regionCertificates } from '../../handlers/db/trust';
import { localWorkerConfig } from '../../trigger/local/worker-config';
import { LocalCluster } from '../../trigger/local/cluster';
import { enableWriterTls, testCa } from '../helpers/test-ca';

const quiet = { warn: () => undefined };

describe('database TLS: verify-full against a server whose certificate a test CA issued', function () {
  this.timeout(120_000);
  let cluster: LocalCluster;
  let disableTls: () => Promise<void>;
  let dir: string;
  const ca = testCa('Amazon RDS test-region-1 Root CA RSA2048 G1');
  // Other CAs in the same files, as Lambda's bundle holds every region's.
  const others = ['Amazon RDS other-region-2 Root CA RSA2048 G1', 'Amazon RDS other-region-3 Root CA ECC384 G1', 'Some Public Root CA'].map(testCa);
  const amazonRoot = testCa('Amazon Root CA 1');
  const file = (name: string, ...pems: string[]): string => {
    const f = path.join(dir, name);
    writeFileSync(f, pems.join(''));
    return f;
  };

  before(async () => {
    cluster = await LocalCluster.start();
    disableTls = await enableWriterTls(cluster, ca.issue(['localhost']));
    dir = mkdtempSync(path.join(os.tmpdir(), 'tls-test-'));
  });
  after(async () => {
    await disableTls?.();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The worker's pools, configured as the stack configures them, for the writer at `host`. */
  function pools(o: { host: string; caFile: string; region?: string; poolMax?: number }): Pools {
    const local = localWorkerConfig({ writer: { host: o.host, port: cluster.writer.port }, reader: cluster.reader, user: cluster.user, password: cluster.password, database: cluster.database, poolMax: o.poolMax ?? 1 });
    const config: WorkerConfig = { ...local, tls: 'verify-full', caFile: o.caFile, ...(o.region ? { region: o.region } : {}) };
    return new Pools(config, new StaticCredentials(cluster.user, cluster.password), quiet);
  }

  async function connects(p: Pools, host: string): Promise<boolean> {
    try {
      const lease = await p.acquire({ host, port: cluster.writer.port });
      try {
        const { rows } = await lease.client.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
        return rows[0]!.ssl;
      } finally {
        lease.release();
      }
    } finally {
      await p.close();
    }
  }

  it('connects over TLS with the right CA and the host name the certificate names', async () => {
    const bundle = file('right.pem', ...others.map((o) => o.certPem), ca.certPem);
    expect(await connects(pools({ host: 'localhost', caFile: bundle, region: 'test-region-1' }), 'localhost')).to.equal(true);
  });

  it('runs the hot path\'s statements (its own protocol reader) over the verified TLS connection', async () => {
    const bundle = file('hot.pem', ca.certPem);
    const p = pools({ host: 'localhost', caFile: bundle, region: 'test-region-1' });
    try {
      const lease = await p.acquire({ host: 'localhost', port: cluster.writer.port });
      try {
        const w = new WireConnection(lease.client, 30_000);
        expect((await w.execute('tls_ssl', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', [])).rows).to.deep.equal([['t']]);
        // Many TLS records: an answer read across chunks.
        expect((await w.execute('tls_many', 'SELECT repeat(\'x\', 100) FROM generate_series(1, 5000)', [])).rows).to.have.length(5000);
      } finally {
        lease.release();
      }
    } finally {
      await p.close();
    }
  });

  it('refuses a server whose certificate no CA of the file issued', async () => {
    const bundle = file('wrong.pem', ...others.map((o) => o.certPem));
    const err = await connects(pools({ host: 'localhost', caFile: bundle, region: 'test-region-1' }), 'localhost').then(() => undefined, (e: unknown) => e);
    expect((err as { code?: string })?.code).to.match(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
  });

  it('refuses a server reached by a host name its certificate does not name', async () => {
    const bundle = file('right-ip.pem', ca.certPem);
    // The same server, by address: its certificate names localhost only.
    const err = await connects(pools({ host: '127.0.0.1', caFile: bundle, region: 'test-region-1' }), '127.0.0.1').then(() => undefined, (e: unknown) => e);
    expect((err as { code?: string })?.code).to.equal('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('still connects to an endpoint whose CA is another region\'s: the whole file is trusted after the region\'s CAs failed', async () => {
    const bundle = file('all.pem', ...others.map((o) => o.certPem), ca.certPem);
    expect(await connects(pools({ host: 'localhost', caFile: bundle, region: 'other-region-2' }), 'localhost')).to.equal(true);
  });

  it('connects every connection opened at once to an endpoint whose CA is another region\'s, not only the one that widened the trust', async () => {
    const bundle = file('all-at-once.pem', ...others.map((o) => o.certPem), ca.certPem);
    const p = pools({ host: 'localhost', caFile: bundle, region: 'other-region-2', poolMax: 3 });
    try {
      const leases = await Promise.all([1, 2, 3].map(() => p.acquire({ host: 'localhost', port: cluster.writer.port })));
      for (const lease of leases) lease.release();
      expect(leases).to.have.length(3);
    } finally {
      await p.close();
    }
  });

  it('reads the CA file when the first connection needs it, not when the worker starts', async () => {
    const p = pools({ host: 'localhost', caFile: path.join(dir, 'not-there-yet.pem'), region: 'test-region-1' });
    file('not-there-yet.pem', ca.certPem);
    expect(await connects(p, 'localhost')).to.equal(true);
  });

  it('chooses the region\'s RDS CAs and the Amazon roots from a bundle, without parsing a certificate', () => {
    const bundle = [...others, ca, amazonRoot].map((c) => c.certPem).join('');
    expect(pemBlocks(bundle)).to.have.length(5);
    expect(regionCertificates(bundle, 'test-region-1')).to.deep.equal([ca.certPem.trim(), amazonRoot.certPem.trim()]);
    expect(regionCertificates(bundle, 'nowhere-1')).to.deep.equal([amazonRoot.certPem.trim()]);
  });
});
