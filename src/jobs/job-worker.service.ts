import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DelayedError, type Job, Worker } from 'bullmq';
import type { AppConfig } from '../config/app-config';
import { JobProducer, UPSTREAM_BACKOFF } from '../infra/job-producer.service';
import { BusChannel, callQueue, type RunCallPayload } from '../infra/jobs';
import { runInLogContext } from '../infra/log-context';
import type { Logger } from '../infra/logger';
import { Metrics } from '../infra/metrics.service';
import { StoreUnavailableError } from '../infra/outage';
import { RedisBus } from '../infra/redis-bus.service';
import { bullmqConnection, bullmqPrefix } from '../infra/redis-connections';
import { APP_CONFIG, LOGGER } from '../config/tokens';
import { backoffDelay } from '../worker/backoff';
import { CallJobProcessor } from './call-job.processor';
import { ProcessSlots } from './process-slots';

/** How long a job fetched while the process budget was full waits before it is offered again. */
const NO_SLOT_DELAY_MS = 100;
/** How long a job of a key that holds its share of this process waits before it is offered again. */
const KEY_SHARE_DELAY_MS = 250;
/**
 * After handing such a job back, how long this process fetches nothing (unless a slot frees first): the key's other
 * waiting jobs would be fetched and handed back too, every one of them, every KEY_SHARE_DELAY_MS. So the slots kept
 * for other keys are offered at most this often, and a newcomer's job (first by priority) waits at most this long.
 */
const KEY_SHARE_HOLD_MS = 100;
/**
 * The rate limit of a route without `rpm`: never reached, but BullMQ honours a pause after a 429 (`queue.rateLimit`)
 * only on a queue that has a limiter.
 */
const UNLIMITED_RATE = { max: 1_000_000, durationMs: 1000 };
/**
 * How long closing the workers may take once their jobs were handed back: BullMQ's close can wait forever on a
 * connection that does not come back (seen on a Redis Cluster after a master restarted); the process exits anyway.
 */
const CLOSE_BOUND_MS = 5000;

/**
 * Owns the BullMQ workers of this process, one per route queue. They are created here rather than by decorators so
 * their options are explicit: the processor declares three parameters (BullMQ passes the AbortSignal only then), the
 * backoff honours Retry-After, and cancel messages reach `worker.cancelJob`. All of them share one budget of
 * WORKER_CONCURRENCY slots.
 */
@Injectable()
export class JobWorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private workers: Worker<RunCallPayload>[] = [];
  private unsubscribe?: () => void;
  /** Aborted when the shutdown grace period is over: running jobs are handed back. */
  private readonly shutdown = new AbortController();
  private drained?: Promise<void>;
  private readonly log: Logger;
  private readonly slots: ProcessSlots;
  /** Set while fetching is held after a key-share hand-back (KEY_SHARE_HOLD_MS). */
  private hold: NodeJS.Timeout | null = null;
  private fetching = true;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    private readonly bus: RedisBus,
    private readonly processor: CallJobProcessor,
    private readonly producer: JobProducer,
    private readonly metrics: Metrics,
  ) {
    this.log = logger.child({ ctx: 'JobWorker' });
    this.slots = new ProcessSlots(
      config.workerConcurrency,
      // Fair share: one key never holds the slots kept for the others.
      Math.max(1, config.workerConcurrency - config.workerReservedSlots),
      () => this.refetch(),
      () => this.refetch(),
    );
  }

  /**
   * Whether the workers fetch jobs: not once draining, not while a key-share hold lasts, and, with several queues,
   * not while the budget is spent (with one queue its own concurrency is the budget).
   */
  private refetch(): void {
    const spent = this.workers.length > 1 && this.slots.inUse >= this.slots.size;
    const want = !this.drained && this.hold === null && !spent;
    if (want === this.fetching) return;
    this.fetching = want;
    for (const w of this.workers) {
      if (want) void w.resume();
      else void w.pause(true);
    }
  }

  private holdFetching(): void {
    if (this.hold) return;
    this.hold = setTimeout(() => this.endHold(), KEY_SHARE_HOLD_MS);
    this.hold.unref();
    this.refetch();
  }

  private endHold(): void {
    if (!this.hold) return;
    clearTimeout(this.hold);
    this.hold = null;
    this.refetch();
  }

  async onApplicationBootstrap(): Promise<void> {
    // Subscribe before taking jobs, so no cancel for a job held here can be missed.
    this.unsubscribe = await this.bus.subscribe(BusChannel.Cancel, (jobId) => {
      for (const worker of this.workers) {
        if (worker.cancelJob(jobId, 'cancelled by the client'))
          this.log.info({ jobId }, 'aborting running job on cancel');
      }
    });
    await this.applyRouteLimits();
    const queues = this.config.routes.map((r) => callQueue(r.name));
    this.workers = queues.map((queue) => this.createWorker(queue));
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  /** The queues this process takes jobs from. */
  get queues(): string[] {
    return this.workers.map((w) => w.name);
  }

  /** True once SIGTERM started the drain: no new jobs are taken. */
  get draining(): boolean {
    return this.drained !== undefined;
  }

  /**
   * A route's limits live on its queue in Redis, so every worker process holds them together: BullMQ's global
   * concurrency (`max_concurrency`) and global rate limit (`rpm`). Jobs over them wait in the queue.
   */
  private async applyRouteLimits(): Promise<void> {
    for (const route of this.config.routes) {
      const queue = this.producer.queue(route.name);
      if (route.maxConcurrency) await queue.setGlobalConcurrency(route.maxConcurrency);
      else await queue.removeGlobalConcurrency();
      if (route.rpm) await queue.setGlobalRateLimit(route.rpm, 60_000);
      else await queue.setGlobalRateLimit(UNLIMITED_RATE.max, UNLIMITED_RATE.durationMs);
    }
  }

  private createWorker(queue: string): Worker<RunCallPayload> {
    const worker = new Worker<RunCallPayload>(
      queue,
      // Three parameters: BullMQ hands the processor an AbortSignal only when it declares them.
      // Every line logged for the job carries the request id of the api request that made it.
      (job: Job<RunCallPayload>, token?: string, signal?: AbortSignal) =>
        runInLogContext({ requestId: String(job.data?.requestId ?? '') }, () => this.run(job, token, signal)),
      {
        connection: bullmqConnection(this.config, 'worker', `worker-${queue}`),
        prefix: bullmqPrefix(this.config),
        concurrency: this.config.workerConcurrency,
        // A crashed worker's jobs come back once their lock lapses and a stall check runs:
        // within lockDuration + stalledInterval. A job that stalls more than maxStalledCount
        // times is failed (and recorded as failed).
        lockDuration: this.config.workerLockMs,
        stalledInterval: this.config.workerStalledIntervalMs,
        maxStalledCount: this.config.workerMaxStalled,
        settings: {
          backoffStrategy: (attemptsMade: number, type?: string, err?: Error) =>
            type === UPSTREAM_BACKOFF ? backoffDelay(attemptsMade, err, this.config.retryBaseMs) : 1000,
        },
      },
    );
    worker.on('failed', (job, err) => {
      if (!job || err instanceof DelayedError || err.name === 'DelayedError') return;
      const final = err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
      if (!final) return;
      this.processor
        .onFinalFailure(job, err)
        .catch((e) => this.log.error({ err: e, jobId: job.id }, 'could not record final failure'));
    });
    worker.on('error', (err) => this.log.warn({ err: err.message, queue }, 'worker error'));
    return worker;
  }

  /**
   * Runs a job; hands it back to the queue, without spending an attempt, when MongoDB is away or
   * when shutdown's grace period ended while it ran (another worker, or this one after a
   * restart, takes it up again).
   */
  private async run(job: Job<RunCallPayload>, token: string | undefined, signal: AbortSignal | undefined) {
    const jobSignal = signal ?? new AbortController().signal;
    const handBack = async (delayMs: number, why: string, reason: string) => {
      this.metrics.handBacks.inc({ reason });
      this.log.info({ jobId: job.id, why }, 'handing the job back to the queue');
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError();
    };
    const owner = job.data?.keyId;
    const taken = this.slots.tryTake(owner);
    if (taken === 'owner-share') this.holdFetching();
    if (taken !== 'taken')
      return handBack(
        taken === 'full' ? NO_SLOT_DELAY_MS : KEY_SHARE_DELAY_MS,
        taken === 'full' ? 'no free slot in this process' : 'the key holds its share of this process',
        taken === 'full' ? 'no_slot' : 'key_share',
      );
    try {
      const outcome = await this.processor.process(job, AbortSignal.any([jobSignal, this.shutdown.signal]));
      if (outcome === 'cancelled' && this.shutdown.signal.aborted && !jobSignal.aborted)
        await handBack(0, 'shutdown', 'shutdown');
      return outcome;
    } catch (err) {
      if (err instanceof StoreUnavailableError) await handBack(2000, err.message, 'store_unavailable');
      throw err;
    } finally {
      this.slots.give(owner);
      // A freed slot may be the owner's again, or another key's: fetch at once.
      this.endHold();
    }
  }

  /**
   * SIGTERM: take no new jobs, let running ones finish for WORKER_SHUTDOWN_GRACE_MS, then abort
   * their upstream calls and hand them back, and close.
   */
  drain(): Promise<void> {
    this.drained ??= (async () => {
      const closing = Promise.all(this.workers.map((w) => w.close()));
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<boolean>(
        (resolve) => (timer = setTimeout(() => resolve(true), this.config.workerShutdownGraceMs)),
      );
      const timedOut = await Promise.race([closing.then(() => false), graceOver]);
      clearTimeout(timer);
      if (timedOut) {
        this.log.warn({ graceMs: this.config.workerShutdownGraceMs }, 'grace period over: handing running jobs back');
        this.shutdown.abort();
      }
      let bound: NodeJS.Timeout | undefined;
      const closed = await Promise.race([
        closing.then(() => true),
        new Promise<boolean>((resolve) => (bound = setTimeout(() => resolve(false), CLOSE_BOUND_MS))),
      ]);
      clearTimeout(bound);
      if (!closed) {
        this.log.warn({ boundMs: CLOSE_BOUND_MS }, 'workers did not close in time: disconnecting them');
        await Promise.allSettled(this.workers.map((w) => w.disconnect()));
      }
      // Cancels keep reaching running jobs until the last one ended.
      this.unsubscribe?.();
      this.log.info('worker drained');
    })();
    return this.drained;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.drain();
  }
}
