import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { type CallKind, ChatCalls, ResponseCalls } from '../application/call-kinds';
import type { AppConfig } from '../config/app-config';
import { type CallRecord, isPendingConversationTurn } from '../domain/call';
import { EventLog } from '../infra/event-log.service';
import { JobProducer } from '../infra/job-producer.service';
import type { Logger } from '../infra/logger';
import { APP_CONFIG, LOGGER } from '../config/tokens';
import { TurnHistory } from './turn-history.service';
import { WebhookDispatcher } from '../application/webhook-dispatcher.service';

const BATCH = 500;

/**
 * MongoDB is the truth; Redis only carries the work. Every SWEEP_INTERVAL_MS a worker looks for
 * unfinished calls untouched for SWEEP_AGE_MS that have no live job (Redis lost it: a crash
 * within its fsync window, a flush, a failover) and enqueues them again under the same jobId, so
 * a second sweeper's add is a no-op. A running job keeps its job and is left alone.
 */
@Injectable()
export class RecoverySweep implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running = false;
  private readonly log: Logger;
  private readonly kinds: CallKind<CallRecord>[];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    private readonly producer: JobProducer,
    private readonly responses: ResponseCalls,
    chat: ChatCalls,
    private readonly events: EventLog,
    private readonly turns: TurnHistory,
    private readonly webhooks: WebhookDispatcher,
  ) {
    this.log = logger.child({ ctx: 'RecoverySweep' });
    this.kinds = [responses, chat];
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.sweepIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /**
   * One pass; returns how many calls were enqueued again. It also finishes what a worker that stopped left undone:
   * background `store: false` calls past their retention are removed, and finished turns not yet in their
   * conversation are added to it.
   */
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let requeued = 0;
    try {
      await this.removeExpired();
      await this.addTurns();
      const before = new Date(Date.now() - this.config.sweepAgeMs);
      for (const kind of this.kinds) {
        for (const record of await kind.repo.findStaleActive(before, BATCH)) {
          const { responseId, userId, route } = record;
          if (await this.producer.hasLiveJob(responseId, route)) continue;
          await this.producer.removeJob(responseId, route).catch(() => undefined);
          const payload = { userId, responseId, requestId: record.omgUrId, keyId: record.keyId };
          await this.producer.enqueue(kind.job, responseId, payload, route);
          requeued++;
          this.log.warn(
            { id: record.responseId, status: record.status },
            `unfinished ${kind.noun} had no job; enqueued again`,
          );
        }
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'recovery sweep failed; will try again');
    }
    try {
      await this.sendOwedWebhooks();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'webhook recovery failed; will try again');
    } finally {
      this.running = false;
    }
    return requeued;
  }

  /**
   * Webhook events still owed by finished calls (their deliveries never enqueued: a process stopped in between, or
   * the enqueue failed), and pending deliveries whose job Redis lost: both enqueued again under the same ids.
   */
  private async sendOwedWebhooks(): Promise<void> {
    const before = new Date(Date.now() - this.config.sweepAgeMs);
    for (const kind of this.kinds) {
      for (const record of await kind.repo.findOwedWebhooks(before, BATCH)) {
        const sent = await this.webhooks.dispatchOrThrow(kind, record);
        this.log.warn({ id: record.responseId, deliveries: sent }, `owed webhook event of a ${kind.noun} enqueued`);
      }
    }
    await this.webhooks.requeueOverdue(before, BATCH);
  }

  private async removeExpired(): Promise<void> {
    const endedBefore = new Date(Date.now() - this.config.ephemeralRetentionS * 1000);
    for (const kind of this.kinds) {
      for (const record of await kind.repo.findExpiredEphemeral(endedBefore, BATCH)) {
        await kind.repo.delete({ userId: record.userId, responseId: record.responseId });
        await this.events.delete(record.responseId).catch(() => undefined); // it expires by itself anyway
      }
    }
  }

  private async addTurns(): Promise<void> {
    const before = new Date(Date.now() - this.config.sweepAgeMs);
    for (const record of await this.responses.repo.findUnappendedTurns(before, BATCH)) {
      if (isPendingConversationTurn(record)) await this.turns.recordTurn(record);
    }
  }
}
