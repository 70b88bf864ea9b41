import { Inject, Injectable } from '@nestjs/common';
import type { Result } from 'ioredis';
import type { AppConfig } from '../config/app-config';
import type { Caller } from '../domain/caller';
import { AppError } from '../domain/errors';
import { newId } from '../domain/ids';
import type { Logger } from './logger';
import { Metrics } from './metrics.service';
import { type RedisClient, RedisConnections } from './redis-connections';
import { APP_CONFIG, LOGGER } from '../config/tokens';

/** A slot lapses unless renewed this often, so a replica that dies does not hold its streams' slots for long. */
const SLOT_TTL_MS = 120_000;
const RENEW_MS = 40_000;

/** Takes a stream slot of a key if fewer than ARGV[3] are open: KEYS[1] the key's set, ARGV now, ttl, max, id. */
const OPEN = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    openStream(key: string, now: number, ttlMs: number, max: number, id: string): Result<number, Context>;
  }
}

/** An open stream's slot: give it back when the stream ends. */
export type StreamSlot = () => Promise<void>;

/**
 * MAX_STREAMS_PER_KEY, held in Redis so it holds across api replicas: a key's open SSE streams (created or replayed).
 * Slots are renewed while their stream is open and lapse by themselves after a crash.
 */
@Injectable()
export class StreamSlots {
  private readonly redis: RedisClient;
  private readonly log: Logger;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    connections: RedisConnections,
    @Inject(LOGGER) logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.log = logger.child({ ctx: 'StreamSlots' });
    this.redis = connections.commands();
    this.redis.defineCommand('openStream', { numberOfKeys: 1, lua: OPEN });
  }

  /** A slot for one more stream of the caller's key, or a 429 when all are taken. */
  async open(caller: Caller): Promise<StreamSlot> {
    const key = `${this.config.queuePrefix}:rl:{${caller.keyId}}:streams`;
    const id = newId('st_', 8);
    const max = this.config.maxStreamsPerKey;
    if ((await this.redis.openStream(key, Date.now(), SLOT_TTL_MS, max, id)) !== 1) {
      const message = `Too many open streams for this API key: limit ${max}. Close one, or poll instead of streaming.`;
      throw new AppError('rate_limited', message, { type: 'requests', code: 'rate_limit_exceeded', retryAfterS: 1 });
    }
    const renew = setInterval(() => {
      this.redis.zadd(key, 'XX', Date.now() + SLOT_TTL_MS, id).catch(() => undefined);
    }, RENEW_MS);
    renew.unref();
    this.metrics.openStreams.inc();
    let open = true;
    return async () => {
      if (open) this.metrics.openStreams.dec();
      open = false;
      clearInterval(renew);
      await this.redis
        .zrem(key, id)
        .catch((err: Error) => this.log.warn({ err: err.message }, 'could not free a stream slot'));
    };
  }
}
