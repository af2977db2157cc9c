/** The edge's structured logger: JSON lines on stdout; secrets are redacted by path. */

import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'burrow-edge' },
      redact: {
        paths: ['token', '*.token', 'secret', '*.secret', 'authorization', '*.authorization'],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ sync: false }),
  );
}
