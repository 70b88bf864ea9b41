import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { type ApiKeyRecord, hashKey } from '../domain/api-key';
import type { Caller } from '../domain/caller';
import { BusChannel } from '../infra/jobs';
import type { Logger } from '../infra/logger';
import { RedisBus } from '../infra/redis-bus.service';
import { APP_CONFIG, LOGGER } from '../config/tokens';
import { ApiKeysRepository } from '../persistence/api-keys.repository';

const CACHE_MAX = 50_000;
const TOUCH_EVERY_MS = 60_000;

/**
 * Resolves a bearer key to its caller. Keys exist only as SHA-256 hashes: the bootstrap keys
 * from API_KEYS in memory, the others in MongoDB. Lookups are cached for KEY_CACHE_TTL_MS, so
 * the hot path costs no database round trip; a key change on any replica is announced on the bus
 * and drops the cached entry everywhere at once, and the TTL bounds it if that notice is lost.
 */
@Injectable()
export class ApiKeysService implements OnModuleInit {
  private readonly bootstrap = new Map<string, Caller>();
  private readonly cache = new Map<string, { caller: Caller | null; expires: number }>();
  private readonly touched = new Map<string, number>();
  private readonly log: Logger;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: ApiKeysRepository,
    private readonly bus: RedisBus,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ ctx: 'ApiKeys' });
    for (const [key, userId] of config.apiKeys) {
      const hash = hashKey(key);
      this.bootstrap.set(hash, { userId, keyId: `boot_${hash.slice(0, 12)}`, limits: this.resolveLimits(null) });
    }
  }

  async onModuleInit(): Promise<void> {
    await this.bus.subscribe(BusChannel.KeyChanged, (hash) => this.cache.delete(hash));
  }

  async authenticate(key: string): Promise<Caller | null> {
    const hash = hashKey(key);
    const boot = this.bootstrap.get(hash);
    if (boot) return boot;
    const now = Date.now();
    const hit = this.cache.get(hash);
    let caller: Caller | null;
    if (hit && hit.expires > now) {
      caller = hit.caller;
    } else {
      const record = await this.repo.findByHash(hash);
      caller = record && record.enabled && !record.revokedAt ? this.toCaller(record) : null;
      if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(hash, { caller, expires: now + this.config.keyCacheTtlMs });
    }
    if (caller) this.touch(caller.keyId, now);
    return caller;
  }

  private toCaller(r: ApiKeyRecord): Caller {
    return { userId: r.userId, keyId: r.keyId, limits: this.resolveLimits(r) };
  }

  private resolveLimits(r: ApiKeyRecord | null): Caller['limits'] {
    return {
      rpm: r?.limits.rpm ?? this.config.rateLimitRpm,
      concurrency: r?.limits.concurrency ?? this.config.rateLimitConcurrency,
    };
  }

  /** last_used_at, written at most once a minute per key and never on the request's path. */
  private touch(keyId: string, now: number): void {
    if (keyId.startsWith('boot_') || now - (this.touched.get(keyId) ?? 0) < TOUCH_EVERY_MS) return;
    this.touched.set(keyId, now);
    this.repo
      .touch(keyId, new Date(now))
      .catch((err: Error) => this.log.warn({ keyId, err: err.message }, 'could not record last use'));
  }
}
