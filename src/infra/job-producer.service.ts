import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { type JobsOptions, Queue } from 'bullmq';
import type { AppConfig } from '../config/app-config';
import { webhookAttempts } from '../domain/webhooks';
import {
  callQueue,
  DEFAULT_ROUTE,
  type DeliverWebhookPayload,
  type JobName,
  type JobPayloads,
  WEBHOOK_QUEUE,
  WebhookJobName,
} from './jobs';
import { bullmqConnection, bullmqPrefix } from './redis-connections';
import { APP_CONFIG } from '../config/tokens';

/** BullMQ's largest priority (lower numbers run first). */
const MAX_PRIORITY = 2 ** 21 - 1;

/** Custom backoff type name; the worker's backoffStrategy honours upstream Retry-After. */
export const UPSTREAM_BACKOFF = 'upstream';

/**
 * The options of every call job: `jobId` is the record id (a duplicate add is a no-op, and cancel can find the job);
 * attempts for transient upstream failures, with our backoff; finished jobs kept for a while to look at.
 */
export function callJobOptions(jobId: string, attempts: number, priority = 1, ephemeral = false): JobsOptions {
  // A call that keeps nothing travels in its job: the job goes as soon as it ends, and its request with it.
  if (ephemeral) return { ...callJobOptions(jobId, attempts, priority), removeOnComplete: true, removeOnFail: true };
  return {
    jobId,
    attempts,
    // Every call is prioritized (BullMQ runs unprioritized jobs before all others): see CallAdmission.
    priority: Math.min(Math.max(1, Math.floor(priority)), MAX_PRIORITY),
    backoff: { type: UPSTREAM_BACKOFF },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** Custom backoff type of webhook deliveries: doubling from WEBHOOK_RETRY_BASE_MS with jitter (domain/webhooks). */
export const WEBHOOK_BACKOFF = 'webhook';

/** A delivery's options: its id is the job id; attempts fill WEBHOOK_RETRY_HOURS with the doubling waits. */
export function webhookJobOptions(deliveryId: string, baseMs: number, hours: number): JobsOptions {
  return {
    jobId: deliveryId,
    attempts: webhookAttempts(baseMs, hours),
    backoff: { type: WEBHOOK_BACKOFF },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** The one place that enqueues: a queue per route, default job options and the jobId rule. */
@Injectable()
export class JobProducer implements OnModuleDestroy {
  private readonly queues = new Map<string, Queue>();
  private webhooks?: Queue;
  /** Cluster clients the queues share (BullMQ leaves a client it was given open), closed after them. */
  private readonly clients: { quit(): Promise<unknown> }[] = [];

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** The queue of a route (made on first use, one per process). */
  queue(route: string = DEFAULT_ROUTE): Queue {
    let queue = this.queues.get(route);
    if (!queue) {
      const connection = bullmqConnection(this.config, 'queue');
      if (!('url' in connection)) this.clients.push(connection);
      queue = new Queue(callQueue(route), { connection, prefix: bullmqPrefix(this.config) });
      this.queues.set(route, queue);
    }
    return queue;
  }

  /** The webhook deliveries' queue. */
  webhookQueue(): Queue {
    if (!this.webhooks) {
      const connection = bullmqConnection(this.config, 'queue');
      if (!('url' in connection)) this.clients.push(connection);
      this.webhooks = new Queue(WEBHOOK_QUEUE, { connection, prefix: bullmqPrefix(this.config) });
    }
    return this.webhooks;
  }

  async enqueueDelivery(payload: DeliverWebhookPayload): Promise<void> {
    const { retryBaseMs, retryHours } = this.config.webhooks;
    await this.webhookQueue().add(
      WebhookJobName.Deliver,
      payload,
      webhookJobOptions(payload.deliveryId, retryBaseMs, retryHours),
    );
  }

  /** Whether a delivery still has a live job (the sweep re-enqueues one Redis lost). */
  async hasLiveDelivery(deliveryId: string): Promise<boolean> {
    const job = await this.webhookQueue().getJob(deliveryId);
    if (!job) return false;
    const state = await job.getState();
    return state !== 'completed' && state !== 'failed' && state !== 'unknown';
  }

  async removeDelivery(deliveryId: string): Promise<void> {
    await this.webhookQueue().remove(deliveryId);
  }

  async enqueue<J extends JobName>(
    name: J,
    jobId: string,
    payload: JobPayloads[J],
    route?: string,
    priority = 1,
  ): Promise<void> {
    const ephemeral = payload.call !== undefined;
    await this.queue(route).add(name, payload, callJobOptions(jobId, this.config.jobAttempts, priority, ephemeral));
  }

  /**
   * Whether BullMQ still has a live job (waiting, delayed, active...) for this id. A finished or failed job, or none
   * at all, means nothing will run the call any more.
   */
  async hasLiveJob(jobId: string, route?: string): Promise<boolean> {
    const job = await this.queue(route).getJob(jobId);
    if (!job) return false;
    const state = await job.getState();
    return state !== 'completed' && state !== 'failed' && state !== 'unknown';
  }

  /** Removes a job whatever its state (the sweep replaces a finished job of an unfinished call). */
  async removeJob(jobId: string, route?: string): Promise<void> {
    await this.queue(route).remove(jobId);
  }

  /** Removes a job that no worker holds yet; a locked (running) job is left to the cancel bus. */
  async removeIfWaiting(jobId: string, route?: string): Promise<boolean> {
    const job = await this.queue(route).getJob(jobId);
    if (!job) return false;
    const state = await job.getState();
    if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized') return false;
    try {
      await job.remove();
      return true;
    } catch {
      return false; // a worker took it in the meantime
    }
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled(
      [...this.queues.values(), ...(this.webhooks ? [this.webhooks] : [])].map((q) => q.close()),
    );
    await Promise.allSettled(this.clients.map((c) => c.quit()));
  }
}
