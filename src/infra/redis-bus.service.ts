import { Inject, Injectable } from '@nestjs/common';

import type { AppConfig } from '../config/app-config';
import type { Logger } from './logger';
import { type RedisClient, RedisConnections } from './redis-connections';
import { APP_CONFIG, LOGGER } from '../config/tokens';

export type BusHandler = (message: string) => void;

/** How long after a cluster node left the subscription is taken to be back on another node. */
const RESUBSCRIBE_SETTLE_MS = 1000;

/**
 * Redis pub/sub between processes: cancel requests (api -> workers) and terminal-state
 * notices (workers -> api). Pub/sub is at-most-once; every user of it also reads the durable
 * state in MongoDB, so a lost message costs latency, never correctness.
 * On a Redis Cluster this is classic pub/sub: PUBLISH reaches every node, so one subscription on any node hears all
 * channels, and the event log's append script can publish whatever slot its log is in (sharded pub/sub would tie each
 * channel to a slot: the global channels to one node, and an append's notice to its log's slot).
 */
@Injectable()
export class RedisBus {
  private subscriber?: RedisClient;
  private readonly handlers = new Map<string, Set<BusHandler>>();
  private readonly reconnectHandlers = new Set<() => void>();
  private subscribedOnce = false;
  private readonly log: Logger;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly redis: RedisConnections,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ ctx: 'RedisBus' });
  }

  channel(name: string): string {
    return `${this.config.queuePrefix}:bus:${name}`;
  }

  async publish(name: string, message: string): Promise<void> {
    await this.redis.commands().publish(this.channel(name), message);
  }

  /** Subscribes to a channel; the returned function unsubscribes (the last handler leaves it). */
  async subscribe(name: string, handler: BusHandler): Promise<() => void> {
    const channel = this.channel(name);
    if (!this.subscriber) {
      this.subscriber = this.redis.subscriber('bus-subscriber');
      // Notices published while the connection was down are lost: whoever waits on them re-reads after a reconnect.
      this.subscriber.on('ready', () => {
        if (this.subscribedOnce) this.reconnected();
        this.subscribedOnce = true;
      });
      // On a cluster the subscription lives on one node; when a node leaves, ioredis moves it to another, and what
      // was published in between is lost: whoever waits re-reads once the move is done.
      this.subscriber.on('-node', () => setTimeout(() => this.reconnected(), RESUBSCRIBE_SETTLE_MS).unref());
      this.subscriber.on('message', (ch: string, msg: string) => {
        for (const h of this.handlers.get(ch) ?? []) {
          try {
            h(msg);
          } catch (err) {
            this.log.error({ err, channel: ch }, 'bus handler failed');
          }
        }
      });
    }
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      await this.subscriber.subscribe(channel);
    }
    set.add(handler);
    return () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(channel) === set) {
        this.handlers.delete(channel);
        void this.subscriber?.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  private reconnected(): void {
    this.reconnectHandlers.forEach((h) => h());
  }

  /** Called after the subscriber reconnected (notices may have been missed meanwhile); returns the unregister. */
  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }
}
