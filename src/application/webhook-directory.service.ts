import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG, LOGGER } from '../config/tokens';
import { BusChannel } from '../infra/jobs';
import type { Logger } from '../infra/logger';
import { RedisBus } from '../infra/redis-bus.service';
import { WebhookEndpointsRepository } from '../persistence/webhooks.repository';

/**
 * Which users have an enabled webhook endpoint, held in memory so that a call of a user without one owes no event
 * and costs no webhook round trip. Read from MongoDB at boot and every WEBHOOK_DIRECTORY_REFRESH_MS; an endpoint
 * change is announced on the bus, and whoever hears it owes events for everyone until the new read is in. Whenever
 * it is unsure (not read yet, a notice heard, the bus reconnected, a read failing for longer than two refreshes), it
 * answers "may want": an event owed in doubt is one the dispatcher drops after reading the endpoints, while an event
 * not owed is never sent.
 */
@Injectable()
export class WebhookDirectory implements OnApplicationBootstrap, OnModuleDestroy {
  private users: ReadonlySet<string> | null = null;
  private readAt = 0;
  /** Bumped by every notice: a read that started before the latest one does not count. */
  private generation = 0;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private unregister: (() => void) | null = null;
  private readonly log: Logger;

  constructor(
    private readonly endpoints: WebhookEndpointsRepository,
    private readonly bus: RedisBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ ctx: 'WebhookDirectory' });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.webhooks.url) return; // every user's calls owe an event anyway
    this.unsubscribe = await this.bus
      .subscribe(BusChannel.WebhooksChanged, () => this.changed())
      .catch((err: Error) => (this.log.warn({ err: err.message }, 'endpoint notices not heard'), null));
    this.unregister = this.bus.onReconnect(() => this.changed());
    await this.refresh();
    const every = this.config.webhooks.directoryRefreshMs;
    this.timer = setInterval(() => void this.refresh(), every);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    this.unregister?.();
  }

  /** Whether a call of this user may owe a webhook event. */
  mayWant(userId: string): boolean {
    if (this.config.webhooks.url) return true;
    const fresh = Date.now() - this.readAt <= 2 * this.config.webhooks.directoryRefreshMs;
    return !this.users || !fresh || this.users.has(userId);
  }

  /** An endpoint was created, changed or deleted somewhere: unsure until read again. */
  changed(): void {
    this.generation++;
    this.users = null;
    void this.refresh();
  }

  async refresh(): Promise<void> {
    const generation = this.generation;
    try {
      const users = await this.endpoints.usersWithEnabled();
      if (generation !== this.generation) return; // a notice came meanwhile; its own read follows
      this.users = users;
      this.readAt = Date.now();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'webhook endpoints not read; events owed for every user');
    }
  }
}
