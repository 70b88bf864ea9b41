import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG, LOGGER } from '../config/tokens';
import { callQueue } from './jobs';
import { JobProducer } from './job-producer.service';
import type { Logger } from './logger';

/** The queue states the depth gauge reports, as BullMQ counts them. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'prioritized'] as const;

/** Seconds: from a few milliseconds (our own answers) to the ten minutes a long generation may take. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * The Prometheus metrics of this process (prom-client, one registry per process). Counters count what this process
 * did; the queue depth (QueueDepth) is the queue's own, the same from every process (take max() across them).
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from a request arriving to its answer ending (streams: until the stream closed), by route template.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'http_rejected_total',
    help: 'Requests answered 429 (limits) or 503 (a store unavailable, not ready, shutting down), by status and route.',
    labelNames: ['status', 'route'] as const,
    registers: [this.registry],
  });
  readonly callsAccepted = new Counter({
    name: 'calls_accepted_total',
    help: 'Model calls accepted and enqueued, by kind and mode (background or not).',
    labelNames: ['kind', 'background'] as const,
    registers: [this.registry],
  });
  readonly callsFinished = new Counter({
    name: 'calls_finished_total',
    help: 'Model calls that reached a terminal status, by kind and status (counted by the process that ended them).',
    labelNames: ['kind', 'status'] as const,
    registers: [this.registry],
  });
  readonly upstreamDuration = new Histogram({
    name: 'upstream_request_duration_seconds',
    help: 'Upstream requests from sending to the last byte of the answer, by route and outcome.',
    labelNames: ['route', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly upstreamFirstByte = new Histogram({
    name: 'upstream_time_to_first_byte_seconds',
    help: 'Upstream requests from sending to the answer starting (JSON: its headers; streams: the first event), by route.',
    labelNames: ['route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'call_retries_total',
    help: 'Transient upstream failures given another attempt, on the same route (retry) or the next (failover).',
    labelNames: ['route', 'how'] as const,
    registers: [this.registry],
  });
  readonly handBacks = new Counter({
    name: 'job_handbacks_total',
    help: 'Jobs a worker handed back to the queue without spending an attempt, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly openStreams = new Gauge({
    name: 'sse_open_streams',
    help: 'Server-sent event streams this api process has open.',
    registers: [this.registry],
  });
  readonly eventLogBytes = new Counter({
    name: 'event_log_bytes_total',
    help: 'Bytes of stream events appended to the Redis event logs by this process.',
    registers: [this.registry],
  });

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.registry.setDefaultLabels({ role: config.role });
    collectDefaultMetrics({ register: this.registry });
  }

  /** The text a scrape gets. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * The depth of every call queue (one per upstream route) by state, read from BullMQ's getJobCounts when scraped, so
 * the numbers are the queue's own, the same from every process that reports them.
 */
@Injectable()
export class QueueDepth {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    metrics: Metrics,
    producer: JobProducer,
    @Inject(LOGGER) logger: Logger,
  ) {
    const log = logger.child({ ctx: 'QueueDepth' });
    const routes = config.routes.map((r) => r.name);
    new Gauge({
      name: 'queue_jobs',
      help: 'Jobs in each call queue (one per upstream route) by state, read from BullMQ when scraped.',
      labelNames: ['queue', 'state'] as const,
      registers: [metrics.registry],
      async collect() {
        const counts = await Promise.all(
          routes.map((route) =>
            producer
              .queue(route)
              .getJobCounts(...QUEUE_STATES)
              .catch((err: Error) => {
                log.warn({ err: err.message, route }, 'could not read the queue depth');
                return null;
              }),
          ),
        );
        this.reset();
        routes.forEach((route, i) => {
          const c = counts[i];
          if (c) for (const state of QUEUE_STATES) this.set({ queue: callQueue(route), state }, c[state] ?? 0);
        });
      },
    });
  }
}
