import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from './tokens';
import { JOB_QUEUE, JobName, type JobPayloads, QueueName } from './jobs';

/** Custom backoff type name; the worker's backoffStrategy honours upstream Retry-After. */
export const UPSTREAM_BACKOFF = 'upstream';

/**
 * The options of every call job: `jobId` is the record id (a duplicate add is a no-op, and cancel can find the job);
 * attempts for transient upstream failures, with our backoff; finished jobs kept for a while to look at.
 */
export function callJobOptions(jobId: string, attempts: number): JobsOptions {
  return {
    jobId,
    attempts,
    backoff: { type: UPSTREAM_BACKOFF },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** The one place that enqueues: queue map, default job options and the jobId rule. */
@Injectable()
export class JobProducer {
  private readonly queues: Record<QueueName, Queue>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectQueue(QueueName.Responses) responses: Queue,
    @InjectQueue(QueueName.ChatCompletions) chat: Queue,
  ) {
    this.queues = { [QueueName.Responses]: responses, [QueueName.ChatCompletions]: chat };
  }

  async enqueue<J extends JobName>(name: J, jobId: string, payload: JobPayloads[J]): Promise<void> {
    await this.queues[JOB_QUEUE[name]].add(name, payload, callJobOptions(jobId, this.config.jobAttempts));
  }

  /**
   * Whether BullMQ still has a live job (waiting, delayed, active...) for this id. A finished or
   * failed job, or none at all, means nothing will run the call any more.
   */
  async hasLiveJob(name: JobName, jobId: string): Promise<boolean> {
    const job = await this.queues[JOB_QUEUE[name]].getJob(jobId);
    if (!job) return false;
    const state = await job.getState();
    return state !== 'completed' && state !== 'failed' && state !== 'unknown';
  }

  /** Removes a job whatever its state (the sweep replaces a finished job of an unfinished call). */
  async removeJob(name: JobName, jobId: string): Promise<void> {
    await this.queues[JOB_QUEUE[name]].remove(jobId);
  }

  /** Removes a job that no worker holds yet; a locked (running) job is left to the cancel bus. */
  async removeIfWaiting(name: JobName, jobId: string): Promise<boolean> {
    const queue = this.queues[JOB_QUEUE[name]];
    const job = await queue.getJob(jobId);
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
}
