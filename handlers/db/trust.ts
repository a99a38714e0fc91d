/**
 * Which certificate authorities the database's TLS trusts (verify-full: the chain and the host
 * name), loaded when the first connection needs them rather than at process start.
 *
 * Lambda's Node.js runtimes ship every Amazon CA, the RDS ones included, in /var/runtime/ca-cert.pem,
 * and AWS's own advice is against loading all of them: "For Node.js runtime versions up to
 * Node.js 18, Lambda automatically loads Amazon-specific CA certificates ... This behavior can
 * have a performance impact during cold starts. ... For optimal performance, we recommend
 * bundling only the certificates that you need" ("Building Lambda functions with Node.js", section
 * "CA certificate loading", https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html).
 * NODE_EXTRA_CA_CERTS parses the whole file (and Node's own roots) as the process starts, for
 * every cold start, connection or not. So the file goes to node-postgres only (`ssl.secureContext`:
 * the database trusts these CAs and nothing else), on the first TLS connection, and only the
 * certificates the function's region can need: an RDS CA's common name carries its region
 * ("Amazon RDS us-east-1 Root CA RSA2048 G1", "Using SSL/TLS to encrypt a connection to a DB
 * cluster", https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.SSL.html),
 * plus the Amazon roots that RDS Proxy's certificates chain to. A chain those do not verify
 * (another region's endpoint on the allowlist) widens the trust to the whole file, once, and the
 * connection is tried again; nothing is sent before the chain verifies, either way.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

/** The TLS options node-postgres gets: verify the chain against `secureContext`, and the host name. */
export interface TrustOptions {
  readonly rejectUnauthorized: true;
  /** Undefined without a CA file: Node's own roots. */
  readonly secureContext: tls.SecureContext | undefined;
}

/** Certificates that are not an RDS region's but that an Amazon database endpoint can chain to (RDS Proxy: ACM). */
const ALWAYS = ['Amazon Root CA', 'Starfield Services Root Certificate Authority', 'Amazon RDS Root'];

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';

/** The PEM certificate blocks of a bundle. */
export function pemBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * The certificates of `pem` the region's database endpoints can chain to: RDS CAs whose names
 * carry the region, and the Amazon roots. Names are matched in the DER, where they are ASCII, so
 * no certificate is parsed to choose. Empty when nothing matches.
 */
export function regionCertificates(pem: string, region: string): string[] {
  return pemBlocks(pem).filter((block) => {
    // The base64 between the BEGIN and END lines, line breaks and all: the decoder skips them
    // ("Whitespace characters such as spaces, tabs, and new lines ... are ignored", Node.js Buffer
    // docs, https://nodejs.org/api/buffer.html#buffers-and-character-encodings), so no regex
    // replace runs over the 140-odd certificates of Lambda's file at the first connection.
    const der = Buffer.from(block.slice(BEGIN.length, -END.length), 'base64');
    return (der.includes('Amazon RDS') && der.includes(region)) || ALWAYS.some((name) => der.includes(name));
  });
}

/** TLS errors that say the chain did not lead to a trusted CA (not a wrong host name, not an expired certificate). */
const UNTRUSTED_CHAIN = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
]);

export function isUntrustedChain(err: unknown): boolean {
  return UNTRUSTED_CHAIN.has((err as { code?: unknown })?.code as string);
}

export class DbTrust {
  private context: tls.SecureContext | undefined;
  private whole = false;

  /**
   * @param caFile PEM bundle to trust (DB_CA_FILE); without one, Node's own roots verify the chain.
   * @param region the function's region (AWS_REGION): its certificates are tried first; without one, the whole file.
   */
  constructor(private readonly caFile: string | undefined, private readonly region: string | undefined) {}

  /** For node-postgres's `ssl`: its getter is read at each new connection, so a widened trust applies to the next one. */
  options(): TrustOptions {
    const trust = this;
    return {
      rejectUnauthorized: true,
      get secureContext() {
        return trust.secureContext();
      },
    };
  }

  /** Which trust a connection about to be made gets: 0 the region's CAs, 1 the whole file. */
  get generation(): number {
    return this.whole ? 1 : 0;
  }

  /**
   * After an untrusted-chain error of a connection made with trust `generation`: trust the whole
   * file from now on. True when a connection tried again gets a wider trust than the one that
   * failed, also when another connection widened it meanwhile (several opened at once all fail
   * on the region's CAs); false when the whole file already failed (the error stands).
   */
  widen(generation: number): boolean {
    if (this.caFile === undefined) return false;
    if (generation < this.generation) return true;
    if (this.whole) return false;
    this.whole = true;
    this.context = undefined;
    return true;
  }

  private secureContext(): tls.SecureContext | undefined {
    if (this.caFile === undefined) return undefined;
    if (!this.context) {
      const pem = readFileSync(this.caFile, 'utf8');
      const chosen = this.whole || this.region === undefined ? [] : regionCertificates(pem, this.region);
      if (chosen.length === 0) this.whole = true;
      // The whole file comes with Node's own roots, as NODE_EXTRA_CA_CERTS added it to them: an
      // allowlisted endpoint with a public CA's certificate still verifies.
      this.context = tls.createSecureContext({ ca: this.whole ? [...tls.rootCertificates, pem] : chosen });
    }
    return this.context;
  }
}
