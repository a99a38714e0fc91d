import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWS_CLIENT_CONFIG, type CredentialSource } from '../config';

type SecretsManagerModule = typeof import('../sdk/secrets-manager');

/** A user name and a password. The password is non-enumerable, so it never reaches a log line. */
export interface Credentials {
  readonly user: string;
  readonly password: string;
}

export function makeCredentials(user: string, password: string): Credentials {
  const c = { user } as { user: string; password: string };
  Object.defineProperty(c, 'password', { value: password, enumerable: false });
  Object.defineProperty(c, 'toJSON', { value: () => ({ user, password: '[redacted]' }), enumerable: false });
  return c;
}

export interface CredentialProvider {
  /** The current credentials; cached after the first call. */
  get(): Promise<Credentials>;
  /** Forget the cache, so the next get() reads the secret again (after an authentication failure). */
  invalidate(): void;
  /**
   * The cached credentials, if get() has resolved them and nothing invalidated them since; lets a
   * connection ready for the next lease be handed out without an await (handlers/db/pools.ts).
   * @default none: every lease awaits get()
   */
  peek?(): Credentials | undefined;
}

export class StaticCredentials implements CredentialProvider {
  private readonly creds: Credentials;
  constructor(user: string, password: string) {
    this.creds = makeCredentials(user, password);
  }
  async get(): Promise<Credentials> { return this.creds; }
  invalidate(): void { /* nothing to re-read */ }
  peek(): Credentials { return this.creds; }
}

/**
 * Credentials from an RDS-style JSON secret in Secrets Manager, read once and cached for the life
 * of the process; re-read after invalidate(), which the pool calls once when authentication fails
 * (the secret was rotated).
 */
export class SecretsManagerCredentials implements CredentialProvider {
  private cached: Promise<Credentials> | undefined;
  private sdk?: SecretsManagerModule;

  /**
   * @param client @default a client with the worker's timeouts (AWS_CLIENT_CONFIG), made with its
   * module on the first read: requiring the SDK is the largest part of a cold start, so it waits
   * until a secret is needed.
   */
  constructor(private readonly secretId: string, private client?: SecretsManagerClient) {}

  /** What the current read resolved to (undefined while it is on its way, or after invalidate()). */
  private resolved: Credentials | undefined;

  get(): Promise<Credentials> {
    if (this.cached) return this.cached;
    const reading: Promise<Credentials> = this.read().then(
      (creds) => {
        if (this.cached === reading) this.resolved = creds;
        return creds;
      },
      (err: unknown) => {
        if (this.cached === reading) this.cached = undefined;
        throw err;
      },
    );
    this.cached = reading;
    return reading;
  }

  invalidate(): void {
    this.cached = undefined;
    this.resolved = undefined;
  }

  peek(): Credentials | undefined {
    return this.resolved;
  }

  private async read(): Promise<Credentials> {
    let out;
    try {
      this.sdk ??= require('../sdk/secrets-manager') as SecretsManagerModule;
      this.client ??= new this.sdk.SecretsManagerClient({ ...AWS_CLIENT_CONFIG });
      out = await this.client.send(new this.sdk.GetSecretValueCommand({ SecretId: this.secretId }));
    } catch (err) {
      // The SDK's message names the secret and the reason, never its value.
      throw new Error(`cannot read secret ${this.secretId}: ${(err as Error).name}: ${(err as Error).message}`);
    }
    let parsed: { username?: unknown; password?: unknown };
    try {
      parsed = JSON.parse(out.SecretString ?? '') as typeof parsed;
    } catch {
      throw new Error(`secret ${this.secretId} is not JSON with "username" and "password"`);
    }
    if (typeof parsed.username !== 'string' || typeof parsed.password !== 'string') {
      throw new Error(`secret ${this.secretId} lacks a string "username" or "password"`);
    }
    return makeCredentials(parsed.username, parsed.password);
  }
}

export function credentialProvider(source: CredentialSource, client?: SecretsManagerClient): CredentialProvider {
  if (source.kind === 'static') return new StaticCredentials(source.user, source.password);
  return new SecretsManagerCredentials(source.secretId, client);
}
