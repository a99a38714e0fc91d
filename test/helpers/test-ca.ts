/**
 * A certificate authority made for a test, and a server certificate it issues, so the worker's
 * verify-full TLS is tested against a real PostgreSQL server. Built with node:crypto alone (P-256
 * keys, ECDSA-SHA256 signatures, the few DER structures X.509 needs), so no openssl binary is
 * needed, here or in CI. Also turns TLS on for the embedded writer with such a certificate.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Client } from 'pg';
import type { LocalCluster } from '../../trigger/local/cluster';
import { serverUser } from '../../trigger/local/server-user';

// --- DER, as much as a certificate needs ---
function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
const seq = (...parts: Buffer[]): Buffer => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]): Buffer => tlv(0x31, Buffer.concat(parts));
const explicit = (n: number, content: Buffer): Buffer => tlv(0xa0 + n, content);
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const bits = (b: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.concat([Buffer.from([unused]), b]));
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
const TRUE = Buffer.from([0x01, 0x01, 0xff]);

function integer(b: Buffer): Buffer {
  return tlv(0x02, b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function utcTime(d: Date): Buffer {
  const p = (n: number): string => String(n).padStart(2, '0');
  return tlv(0x17, Buffer.from(`${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`));
}

const name = (commonName: string): Buffer => seq(set(seq(oid('2.5.4.3'), utf8(commonName))));
const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

function extension(id: string, value: Buffer, critical = false): Buffer {
  return seq(oid(id), ...(critical ? [TRUE] : []), octets(value));
}

function pem(der: Buffer, label: string): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}

function certificate(o: { subject: string; issuer: string; key: KeyObject; signer: KeyObject; ca: boolean; dnsNames?: readonly string[] }): string {
  const now = Date.now();
  const extensions = [
    extension('2.5.29.19', o.ca ? seq(TRUE) : seq(), true), // basicConstraints
    extension('2.5.29.15', o.ca ? bits(Buffer.from([0x06]), 1) : bits(Buffer.from([0x80]), 7), true), // keyUsage: keyCertSign+cRLSign / digitalSignature
    ...(o.dnsNames?.length ? [extension('2.5.29.17', seq(...o.dnsNames.map((d) => tlv(0x82, Buffer.from(d, 'ascii')))))] : []), // subjectAltName
  ];
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(randomBytes(8)),
    ECDSA_SHA256,
    name(o.issuer),
    seq(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + 7 * 86_400_000))),
    name(o.subject),
    o.key.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions)),
  );
  return pem(seq(tbs, ECDSA_SHA256, bits(sign('sha256', tbs, o.signer))), 'CERTIFICATE');
}

export interface TestCa {
  /** The CA's certificate, PEM: what a client trusts. */
  readonly certPem: string;
  /** A server certificate (and its key) for these DNS names, issued by this CA. */
  issue(dnsNames: readonly string[]): { certPem: string; keyPem: string };
}

/** A new self-signed CA named `commonName`. */
export function testCa(commonName: string): TestCa {
  const { privateKey: caKey, publicKey: caPub } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const certPem = certificate({ subject: commonName, issuer: commonName, key: caPub, signer: caKey, ca: true });
  return {
    certPem,
    issue(dnsNames) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      return {
        certPem: certificate({ subject: dnsNames[0]!, issuer: commonName, key: publicKey, signer: caKey, ca: false, dnsNames }),
        keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      };
    },
  };
}

/**
 * Turn TLS on for the cluster's writer with this certificate (ssl = on takes a reload, no restart;
 * clients that do not ask for TLS still connect without it). Returns a function that turns it off.
 */
export async function enableWriterTls(cluster: LocalCluster, server: { certPem: string; keyPem: string }): Promise<() => Promise<void>> {
  const dir = await fs.mkdtemp(path.join(cluster.baseDir, 'tls-'));
  const cert = path.join(dir, 'server.crt');
  const key = path.join(dir, 'server.key');
  await fs.writeFile(cert, server.certPem, { mode: 0o644 });
  // PostgreSQL refuses a key file that others can read.
  await fs.writeFile(key, server.keyPem, { mode: 0o600 });
  const owner = await serverUser();
  if (owner) for (const f of [dir, cert, key]) await fs.chown(f, owner.uid, owner.gid);
  await fs.chmod(dir, 0o755);
  const sql = async (statements: string[]): Promise<void> => {
    const c = new Client({ ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database });
    await c.connect();
    try {
      for (const s of statements) await c.query(s);
    } finally {
      await c.end();
    }
  };
  // ALTER SYSTEM takes no bind parameters; the paths are ours (mkdtemp), quoted all the same.
  const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;
  await sql([`ALTER SYSTEM SET ssl_cert_file = ${literal(cert)}`, `ALTER SYSTEM SET ssl_key_file = ${literal(key)}`, 'ALTER SYSTEM SET ssl = on', 'SELECT pg_reload_conf()']);
  await untilSsl(cluster, 'on');
  return async () => {
    await sql(['ALTER SYSTEM RESET ssl', 'ALTER SYSTEM RESET ssl_cert_file', 'ALTER SYSTEM RESET ssl_key_file', 'SELECT pg_reload_conf()']);
    await untilSsl(cluster, 'off');
  };
}

/** The postmaster applies a reload a moment after pg_reload_conf(): wait until new sessions see it. */
async function untilSsl(cluster: LocalCluster, want: 'on' | 'off'): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const c = new Client({ ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database });
    await c.connect();
    const { rows } = await c.query<{ ssl: string }>('SHOW ssl');
    await c.end();
    if (rows[0]!.ssl === want) return;
    if (Date.now() > deadline) throw new Error(`the writer did not turn ssl ${want} within 10 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
