import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/tokens';
import { type RedisClient, RedisConnections } from './redis-connections';

/**
 * Workers' sign of life in Redis: each worker sets one shared key every WORKER_HEARTBEAT_S, with a TTL of three of
 * those, so the key exists exactly while some worker beat within that window. The api's readiness reads it.
 */
@Injectable()
export class WorkerHeartbeat {
  private readonly redis: RedisClient;
  private readonly key: string;
  private readonly ttlMs: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig, connections: RedisConnections) {
    this.redis = connections.commands();
    this.key = `${config.queuePrefix}:worker-heartbeat`;
    this.ttlMs = config.workerHeartbeatS * 3 * 1000;
  }

  /** Called by every worker on its interval; the value is the time of the beat. */
  async beat(): Promise<void> {
    await this.redis.set(this.key, String(Date.now()), 'PX', this.ttlMs);
  }

  /** The time of the latest beat within the window, or null when no worker beat in it. */
  async latest(): Promise<number | null> {
    const value = await this.redis.get(this.key);
    return value === null ? null : Number(value);
  }
}
