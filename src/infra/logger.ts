import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import type Pretty from 'pino-pretty';
import { currentLogContext } from './log-context';

export type { Logger } from 'pino';

/**
 * Structured logs on stdout: JSON lines, or pino-pretty's lines for people (LOG_FORMAT=pretty). Callers log ids, never
 * payloads or keys. Every line written while a request or a job is handled carries its request id.
 */
export function createLogger(level: string, role: string, format: 'json' | 'pretty' = 'json'): Logger {
  // Loaded only when asked for: a JSON start does not pay for it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, see above
  const pretty = format === 'pretty' ? (require('pino-pretty') as typeof Pretty) : null;
  const destination: DestinationStream | undefined = pretty
    ? pretty({ sync: true, colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
    : undefined;
  const options: pino.LoggerOptions = {
    level,
    base: { role, pid: process.pid },
    redact: { paths: ['*.authorization', '*.apiKey', '*.headers.authorization'], censor: '[redacted]' },
    mixin(merge: object, _level: number, logger: Logger) {
      const requestId = currentLogContext()?.requestId;
      // A line that names its request already (a child bound to it, or the call's own field) gets it once.
      if (!requestId || 'requestId' in merge || 'requestId' in logger.bindings()) return {};
      return { requestId };
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Routes Nest's own log lines through pino. Its informational lines (every module loaded, every route mapped) go to
 * debug: a start prints a short summary of its own instead.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string): void {
    this.logger.debug({ ctx: context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ ctx: context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ ctx: context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ ctx: context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ ctx: context }, String(message));
  }
}
