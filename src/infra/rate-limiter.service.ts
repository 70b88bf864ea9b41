import { Inject, Injectable } from '@nestjs/common';
import type { Result } from 'ioredis';
import type { AppConfig } from '../config/app-config';
import type { Caller } from '../domain/caller';
import { AppError } from '../domain/errors';
import type { Logger } from './logger';
import { currentLogContext } from './log-context';
import { type RedisClient, RedisConnections } from './redis-connections';
import { APP_CONFIG, LOGGER } from '../config/tokens';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** ADMIT below: KEYS the key's request log and in-flight set; ARGV now, rpm, concurrency, call id. */
    admitCall(
      rpmKey: string,
      inflightKey: string,
      ...args: (string | number)[]
    ): Result<[number, number, number, number], Context>;
  }
}

const WINDOW_MS = 60_000;

/** A key's requests-per-minute window after an admission: its limit, what is left, and when the oldest leaves it. */
export interface RequestsWindow {
  limit: number;
  remaining: number;
  /** Until the oldest request in the window leaves it (one more request is then allowed); 60 s when none is in it. */
  resetMs: number;
}

/** OpenAI's duration format for x-ratelimit-reset-*: `850ms`, `12s`, `1m5s`. */
export function formatReset(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const s = Math.ceil(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`;
}

/** The headers OpenAI sends for request limits, as clients read them to pace themselves. */
export function rateLimitHeaders(w: RequestsWindow): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(w.limit),
    'x-ratelimit-remaining-requests': String(w.remaining),
    'x-ratelimit-reset-requests': formatReset(w.resetMs),
  };
}
/** An in-flight slot frees itself after this long even if its release was lost (a crash). */
const SLOT_TTL_MS = 2 * 3600_000;

/**
 * Admits a call for a key, atomically: requests in the last minute (a sliding log) under the
 * key's RPM, and calls in flight under its concurrency. Returns {verdict (0 admitted, 1 over RPM, 2 over concurrency),
 * in flight (admitted) or retry-after ms, requests in the window, ms until the oldest of them leaves it}.
 */
const ADMIT = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ${WINDOW_MS})
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local function reset()
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if oldest[2] == nil then return ${WINDOW_MS} end
  return tonumber(oldest[2]) + ${WINDOW_MS} - now
end
local used = redis.call('ZCARD', KEYS[1])
if used >= tonumber(ARGV[2]) then
  local wait = reset()
  return {1, wait, used, wait}
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
  return {2, 1000, used, reset()}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], ${WINDOW_MS})
redis.call('ZADD', KEYS[2], now + ${SLOT_TTL_MS}, ARGV[4])
redis.call('PEXPIRE', KEYS[2], ${SLOT_TTL_MS})
return {0, redis.call('ZCARD', KEYS[2]), used + 1, reset()}
`;

/**
 * Per-key limits held in Redis, so they hold across api replicas: model calls per minute and
 * calls in flight. Only admission is limited: a call that was accepted is never dropped; its
 * slot is released when it reaches a terminal state (by whichever process wins that transition).
 */
@Injectable()
export class RateLimiter {
  private readonly redis: RedisClient;
  private readonly log: Logger;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    connections: RedisConnections,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ ctx: 'RateLimiter' });
    this.redis = connections.commands();
    this.redis.defineCommand('admitCall', { numberOfKeys: 2, lua: ADMIT });
  }

  /** Hash-tagged keys: both of a key's sets live in one Redis Cluster slot. */
  private keys(keyId: string): [string, string] {
    const tag = `${this.config.queuePrefix}:rl:{${keyId}}`;
    return [`${tag}:rpm`, `${tag}:inflight`];
  }

  /**
   * Admits a call; returns how many of the key's calls are then in flight (this one included) and what the
   * x-ratelimit-*-requests headers say, which are also set on the answer of the request being handled (429s too).
   */
  async admit(caller: Caller, callId: string): Promise<{ inFlight: number; requests: RequestsWindow }> {
    const [rpmKey, inflightKey] = this.keys(caller.keyId);
    const { rpm, concurrency } = caller.limits;
    const [verdict, waitMs, used, resetMs] = await this.redis.admitCall(
      rpmKey,
      inflightKey,
      Date.now(),
      rpm,
      concurrency,
      callId,
    );
    const requests: RequestsWindow = { limit: rpm, remaining: Math.max(0, rpm - used), resetMs: Math.max(0, resetMs) };
    const scope = currentLogContext();
    for (const [name, value] of Object.entries(rateLimitHeaders(requests))) scope?.setHeader?.(name, value);
    if (verdict === 0) return { inFlight: waitMs, requests };
    const retryAfter = String(Math.max(1, Math.ceil(waitMs / 1000)));
    const message =
      verdict === 1
        ? `Rate limit reached for requests per minute (RPM): limit ${caller.limits.rpm}. Please try again in ${retryAfter}s.`
        : `Too many calls in flight for this API key: limit ${caller.limits.concurrency}. Please retry when one has finished.`;
    throw new AppError('rate_limited', message, {
      type: 'requests',
      code: 'rate_limit_exceeded',
      retryAfterS: Number(retryAfter),
    });
  }

  /** Frees an in-flight slot; idempotent, and harmless for a call that had none. */
  async release(keyId: string, callId: string): Promise<void> {
    if (!keyId) return;
    try {
      await this.redis.zrem(this.keys(keyId)[1], callId);
    } catch (err) {
      // The slot expires by itself; a lost release only delays new admissions.
      this.log.warn({ keyId, callId, err: (err as Error).message }, 'could not release an in-flight slot');
    }
  }
}
