import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { type Job, Worker } from 'bullmq';
import type { AppConfig } from '../config/app-config';
import type { Logger } from '../common/logger';
import { RedisBus } from '../infra/redis-bus.service';
import { APP_CONFIG, LOGGER } from '../infra/tokens';
import { BusChannel, QueueName, type RunCallPayload } from '../queue/jobs';
import { UPSTREAM_BACKOFF } from '../queue/job-producer.service';
import { RetryableJobError } from '../calls/call-runner.service';
import { CallJobProcessor } from './call-job.processor';

/** Exponential backoff with jitter, or the upstream's Retry-After when it gave one (capped). */
export function backoffDelay(attemptsMade: number, err: unknown, baseMs: number, maxMs = 60_000): number {
  if (err instanceof RetryableJobError && err.retryAfterMs !== null) return Math.min(err.retryAfterMs, maxMs);
  const exp = Math.min(baseMs * 2 ** Math.max(0, attemptsMade - 1), maxMs);
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

/**
 * Owns the BullMQ worker of this process. It is created here rather than by decorators so its
 * options are explicit: the processor declares three parameters (BullMQ passes the AbortSignal
 * only then), the backoff honours Retry-After, and cancel messages reach `worker.cancelJob`.
 */
@Injectable()
export class JobWorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private workers: Worker<RunCallPayload>[] = [];
  private unsubscribe?: () => void;
  private readonly log: Logger;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    private readonly bus: RedisBus,
    private readonly processor: CallJobProcessor,
  ) {
    this.log = logger.child({ ctx: 'JobWorker' });
  }

  async onApplicationBootstrap(): Promise<void> {
    // Subscribe before taking jobs, so no cancel for a job held here can be missed.
    this.unsubscribe = await this.bus.subscribe(BusChannel.Cancel, (jobId) => {
      for (const worker of this.workers) {
        if (worker.cancelJob(jobId, 'cancelled by the client')) this.log.info({ jobId }, 'aborting running job on cancel');
      }
    });
    this.workers = Object.values(QueueName).map((queue) => this.createWorker(queue));
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
    this.log.info({ concurrency: this.config.workerConcurrency, queues: Object.values(QueueName) }, 'worker ready');
  }

  private createWorker(queue: QueueName): Worker<RunCallPayload> {
    const worker = new Worker<RunCallPayload>(
      queue,
      // Three parameters: BullMQ hands the processor an AbortSignal only when it declares them.
      (job: Job<RunCallPayload>, _token?: string, signal?: AbortSignal) => this.processor.process(job, signal ?? new AbortController().signal),
      {
        connection: { url: this.config.redisUrl, maxRetriesPerRequest: null, connectionName: `worker-${queue}` },
        prefix: this.config.queuePrefix,
        concurrency: this.config.workerConcurrency,
        // A crashed worker's jobs come back after the lock expires and the stall check runs.
        lockDuration: 30_000,
        stalledInterval: 15_000,
        maxStalledCount: 2,
        settings: {
          backoffStrategy: (attemptsMade: number, type?: string, err?: Error) =>
            type === UPSTREAM_BACKOFF ? backoffDelay(attemptsMade, err, this.config.retryBaseMs) : 1000,
        },
      },
    );
    worker.on('failed', (job, err) => {
      if (!job) return;
      const final = err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
      if (!final) return;
      this.processor.onFinalFailure(job, err).catch((e) => this.log.error({ err: e, jobId: job.id }, 'could not record final failure'));
    });
    worker.on('error', (err) => this.log.warn({ err: err.message, queue }, 'worker error'));
    return worker;
  }

  async onApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
