import pino from 'pino';

export type Logger = pino.Logger;

/**
 * The worker's JSON logger. Secrets stay out by construction (credentials are never passed to it,
 * and a password is a non-enumerable property); the redact list is a second line of defence.
 */
export function createLogger(destination?: pino.DestinationStream, level = 'info'): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: null,
    redact: { paths: ['password', '*.password', 'secret', '*.secret', 'SecretString', '*.SecretString'], censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}
