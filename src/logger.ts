import pino, { type LoggerOptions } from 'pino'

/**
 * Paths pino blanks out wherever they appear: credentials never reach the logs.
 * Connection strings are not logged at all (see DESIGN.md decision 4); hosts and database
 * names are.
 */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'password',
  '*.password',
  '*.adminPassword',
  '*.newPassword',
  '*.secret',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.connectionString',
  '*.masterKey',
  'body.password',
  'body.adminPassword',
]

/** pino options: JSON lines, pretty-free; secrets redacted. */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: { service: 'tenantd' },
    timestamp: pino.stdTimeFunctions.isoTime,
  }
}

export type Logger = pino.Logger
export { pino }
