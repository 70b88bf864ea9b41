import type { Logger } from './logger';

/** Beyond the grace period, how long draining and closing may take before the process just exits. */
export const HARD_STOP_MARGIN_MS = 10_000;

/**
 * On SIGTERM or SIGINT (once): run `drain` (let work finish), then `close` (the stores and the
 * rest of the app), then exit; exit 1 if either throws, or if both together take longer than
 * `graceMs` + HARD_STOP_MARGIN_MS (closing can wait forever on a store that is gone).
 */
export function onStopSignal(
  logger: Logger,
  graceMs: number,
  drain: (signal: string) => Promise<void>,
  close: () => Promise<void>,
): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      logger.error({ limitMs: graceMs + HARD_STOP_MARGIN_MS }, 'shutdown took too long; exiting');
      process.exit(1);
    }, graceMs + HARD_STOP_MARGIN_MS).unref();
    drain(signal)
      .then(close)
      .then(() => process.exit(0))
      .catch((err: Error) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
