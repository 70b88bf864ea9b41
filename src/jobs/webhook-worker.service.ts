import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG, LOGGER } from '../config/tokens';
import { webhookRetryDelay } from '../domain/webhooks';
import { WEBHOOK_BACKOFF } from '../infra/job-producer.service';
import { type DeliverWebhookPayload, WEBHOOK_QUEUE } from '../infra/jobs';
import type { Logger } from '../infra/logger';
import { bullmqConnection, bullmqPrefix } from '../infra/redis-connections';
import { WebhookDelivery } from '../worker/webhook-delivery.service';

/**
 * The BullMQ worker of the webhook queue: its own connection and WEBHOOK_CONCURRENCY, apart from the call workers'
 * budget, so a slow receiver never holds a model call's slot. The processor is an adapter: check the payload, make
 * one attempt, throw to retry (with the webhook backoff: doubling with jitter).
 */
@Injectable()
export class WebhookWorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker?: Worker<DeliverWebhookPayload>;
  private readonly log: Logger;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    private readonly delivery: WebhookDelivery,
  ) {
    this.log = logger.child({ ctx: 'WebhookWorker' });
  }

  async onApplicationBootstrap(): Promise<void> {
    const { concurrency, retryBaseMs, timeoutMs } = this.config.webhooks;
    this.worker = new Worker<DeliverWebhookPayload>(WEBHOOK_QUEUE, (job) => this.process(job), {
      connection: bullmqConnection(this.config, 'worker', `worker-${WEBHOOK_QUEUE}`),
      prefix: bullmqPrefix(this.config),
      concurrency,
      // An attempt takes at most WEBHOOK_TIMEOUT_MS; the lock outlives it.
      lockDuration: Math.max(this.config.workerLockMs, timeoutMs * 2),
      stalledInterval: this.config.workerStalledIntervalMs,
      maxStalledCount: this.config.workerMaxStalled,
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string) =>
          type === WEBHOOK_BACKOFF ? webhookRetryDelay(attemptsMade, retryBaseMs) : 1000,
      },
    });
    this.worker.on('error', (err) => this.log.warn({ err: err.message }, 'webhook worker error'));
    await this.worker.waitUntilReady();
  }

  private async process(job: Job<DeliverWebhookPayload>): Promise<string> {
    const { deliveryId, endpointId, eventId } = job.data ?? ({} as DeliverWebhookPayload);
    if (typeof deliveryId !== 'string' || typeof endpointId !== 'string' || typeof eventId !== 'string')
      throw new UnrecoverableError(`malformed webhook job ${job.id}`);
    const outcome = await this.delivery.attempt(
      { deliveryId, endpointId, eventId },
      job.attemptsMade + 1,
      job.opts.attempts ?? 1,
    );
    if (outcome.kind === 'retry') throw new Error(outcome.error);
    return outcome.kind;
  }

  /** SIGTERM: attempts under way may finish within WORKER_SHUTDOWN_GRACE_MS; any left come back after their lock. */
  async onApplicationShutdown(): Promise<void> {
    if (!this.worker) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise((r) => (timer = setTimeout(r, this.config.workerShutdownGraceMs)));
    await Promise.race([this.worker.close(), grace]);
    clearTimeout(timer);
    await this.worker.close(true);
  }
}
