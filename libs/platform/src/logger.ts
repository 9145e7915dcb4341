import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Paths never written to logs: credentials, tokens, secrets and personal data (ARCHITECTURE
 * section 8). Tested in logger.test.ts; extend it when a new sensitive field appears.
 */
export const redactedPaths = [
  'password',
  '*.password',
  'newPassword',
  '*.newPassword',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["api-key"]',
  'req.headers["sbp-sig"]',
  'headers["api-key"]',
  'headers["sbp-sig"]',
  'email',
  '*.email',
  'displayName',
  '*.displayName',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'clientSecret',
  '*.clientSecret',
  'startUrl',
  '*.startUrl',
  'hostUrl',
  '*.hostUrl',
  'reason',
  '*.reason',
];

export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      name: service,
      level,
      base: { service },
      redact: { paths: redactedPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
