import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import type { AppConfig } from '../config/app-config';
import type { Logger } from './logger';
import { APP_CONFIG, LOGGER } from '../config/tokens';

/**
 * Every Redis connection of a process, made with one policy for its role:
 * - the api fails fast: a command gets one retry, and producers have no offline queue, so a request answers 503 at
 *   once while Redis is away instead of waiting for it;
 * - workers and tools wait: commands are retried until Redis is back.
 * Subscribers always queue (they resubscribe after a reconnect). One command connection per process serves the bus
 * publisher, the event log and the rate limiter; BullMQ makes its own from `bullmqConnection()`.
 */
@Injectable()
export class RedisConnections implements OnModuleDestroy {
  private readonly open: Redis[] = [];
  private shared?: Redis;
  private readonly log: Logger;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ ctx: 'Redis' });
  }

  /** The process's command connection (lazy). */
  commands(): Redis {
    this.shared ??= this.connect('commands', this.commandOptions());
    return this.shared;
  }

  /** A connection of its own for pub/sub (a subscribed connection takes no other commands). */
  subscriber(name: string): Redis {
    return this.connect(name, { maxRetriesPerRequest: null });
  }

  async ping(): Promise<void> {
    await this.commands().ping();
  }

  private commandOptions(): RedisOptions {
    return commandOptions(this.config);
  }

  private connect(name: string, options: RedisOptions): Redis {
    const client = new Redis(this.config.redisUrl, { ...options, connectionName: `${this.config.role}-${name}` });
    client.on('error', (err: Error) => this.log.warn({ err: err.message, connection: name }, 'redis connection error'));
    this.open.push(client);
    return client;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled(this.open.map((c) => c.quit()));
  }
}

interface Policy {
  maxRetriesPerRequest: number | null;
  enableOfflineQueue?: boolean;
}

function commandOptions(config: AppConfig): Policy {
  return config.role === 'api'
    ? { maxRetriesPerRequest: 1, enableOfflineQueue: false }
    : { maxRetriesPerRequest: null };
}

/** BullMQ's connection for queues (producers, with the command policy) and workers (consumers, which wait). */
export function bullmqConnection(
  config: AppConfig,
  purpose: 'queue' | 'worker',
): Policy & { url: string; connectionName: string } {
  const options: Policy = purpose === 'worker' ? { maxRetriesPerRequest: null } : commandOptions(config);
  return { url: config.redisUrl, ...options, connectionName: `${config.role}-${purpose}` };
}
