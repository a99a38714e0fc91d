/**
 * The part of the Secrets Manager client the worker uses, required on the first secret read
 * (db/credentials.ts). Naming the two classes, instead of requiring the package, lets esbuild
 * leave the rest of the package's ES modules out of the bundle (app/load/worker-bundling.ts).
 */
export { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
