import { pino, type Logger } from 'pino';

/**
 * Structured JSON logs. Secrets never reach a log line: the config is never logged, requests are
 * logged without headers, and these paths are censored in case an object carrying them is.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'jitsync' },
      redact: {
        paths: [
          'authorization',
          'headers.authorization',
          'req.headers.authorization',
          '*.token',
          '*.hookToken',
          '*.adminToken',
          '*.clientSecret',
          '*.bindPassword',
          '*.password',
          'token',
          'clientSecret',
          'bindPassword',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
