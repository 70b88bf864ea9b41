import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What belongs to the request or job being handled, for whatever runs on its behalf: its request id (added to every
 * log line written meanwhile, by the logger's mixin) and, on the api, a way to add response headers before the answer
 * is written (the rate limiter's x-ratelimit-* headers).
 */
export interface LogContext {
  requestId: string;
  setHeader?: (name: string, value: string) => void;
}

const storage = new AsyncLocalStorage<LogContext>();

export function runInLogContext<T>(context: LogContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}
