import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Structured JSON logs on stdout. Callers log ids, never payloads or keys. */
export function createLogger(level: string, role: string): Logger {
  return pino({
    level,
    base: { role, pid: process.pid },
    redact: { paths: ['*.authorization', '*.apiKey', '*.headers.authorization'], censor: '[redacted]' },
  });
}

/** Routes Nest's own log lines through pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string): void {
    this.logger.info({ ctx: context }, String(message));
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
