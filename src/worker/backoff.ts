import { RetryableJobError } from './call-runner.service';

/** Exponential backoff with jitter, or the upstream's Retry-After when it gave one (capped). */
export function backoffDelay(attemptsMade: number, err: unknown, baseMs: number, maxMs = 60_000): number {
  if (err instanceof RetryableJobError && err.retryAfterMs !== null) return Math.min(err.retryAfterMs, maxMs);
  const exp = Math.min(baseMs * 2 ** Math.max(0, attemptsMade - 1), maxMs);
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}
