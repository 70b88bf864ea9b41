import type { Logger } from './logger';

/**
 * On SIGTERM or SIGINT (once): run `drain` (let work finish), then `close` (the stores and the
 * rest of the app), then exit; exit 1 if either throws.
 */
export function onStopSignal(logger: Logger, drain: (signal: string) => Promise<void>, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
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
