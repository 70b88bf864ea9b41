import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import type { Logger } from '../common/logger';
import { RedisBus } from '../infra/redis-bus.service';
import { APP_CONFIG, LOGGER } from '../infra/tokens';
import { BusChannel, type RunResponsePayload } from '../queue/jobs';
import { UpstreamClient } from '../upstream/upstream.client';
import { isAbortError, UpstreamError } from '../upstream/upstream-error';
import type { ResponseChanges, ResponseKey } from './responses.repository';
import { ResponsesRepository } from './responses.repository';
import { ACTIVE_STATUSES, type ResponseRecord, type ResponseStatus, TERMINAL_STATUSES } from './response.schema';

export type RunOutcome = 'gone' | 'already-terminal' | 'not-runnable' | 'cancelled' | 'completed' | 'incomplete' | 'failed' | 'dropped';

export interface RunContext {
  /** 1 for the first attempt. */
  attempt: number;
  maxAttempts: number;
  /** Aborted by BullMQ when the job is cancelled through `worker.cancelJob`. */
  signal: AbortSignal;
}

/** Thrown for a transient failure that should be retried by the queue, with its wait if known. */
export class RetryableJobError extends Error {
  constructor(message: string, readonly retryAfterMs: number | null) {
    super(message);
    this.name = 'RetryableJobError';
  }
}

/** Request fields we consume ourselves and never send upstream. */
const NOT_FORWARDED = ['background', 'stream', 'stream_options'];

/**
 * Runs one response job. Idempotent: it re-reads the record and skips anything that is gone,
 * finished or cancelled, and every state change is a conditional update, so a job that runs
 * twice, or finishes after a cancel, cannot write a second or late result.
 */
@Injectable()
export class ResponseRunner {
  private readonly log: Logger;

  constructor(
    private readonly repo: ResponsesRepository,
    private readonly upstream: UpstreamClient,
    private readonly bus: RedisBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ ctx: 'ResponseRunner' });
  }

  async run(job: RunResponsePayload, ctx: RunContext): Promise<RunOutcome> {
    const key: ResponseKey = { userId: job.userId, responseId: job.responseId };
    const log = this.log.child({ responseId: job.responseId, requestId: job.requestId, attempt: ctx.attempt });

    let record = await this.repo.find(key);
    if (!record) return 'gone';
    if (TERMINAL_STATUSES.includes(record.status)) return 'already-terminal';
    if (record.status === 'queued') {
      record = await this.repo.transition(key, ['queued'], { status: 'in_progress', startedAt: new Date() });
      if (!record) return 'not-runnable'; // cancelled or deleted between the read and the update
    }
    // Here the record is in_progress: fresh, or a retry after a transient failure or a crash.
    if (ctx.signal.aborted) return 'cancelled';

    const watch = this.watchCancelFlag(key);
    const signal = AbortSignal.any([ctx.signal, watch.signal]);
    let body: Record<string, unknown>;
    try {
      await this.repo.countUpstreamCall(key);
      ({ body } = await this.upstream.postJson('/responses', upstreamRequest(record), signal));
    } catch (err) {
      if (signal.aborted || isAbortError(err)) {
        log.info('upstream call aborted by cancel');
        return 'cancelled';
      }
      return this.onUpstreamError(key, err, ctx, log);
    } finally {
      watch.stop();
    }

    const changes = resultChanges(body);
    const done = await this.repo.transition(key, ['in_progress'], changes);
    if (!done) {
      log.info('result dropped: the response was cancelled or deleted while the upstream call ran');
      return 'dropped';
    }
    await this.announceTerminal(job.responseId);
    log.info({ status: done.status }, 'response finished');
    return done.status as RunOutcome;
  }

  /** Records a final failure once (used by the job's last attempt and by stalled-job handling). */
  async recordFailure(key: ResponseKey, error: { code: string; message: string }, errorStatus: number | null): Promise<boolean> {
    const failed = await this.repo.transition(key, ACTIVE_STATUSES, { status: 'failed', error, errorStatus });
    if (failed) await this.announceTerminal(key.responseId);
    return failed !== null;
  }

  private async onUpstreamError(key: ResponseKey, err: unknown, ctx: RunContext, log: Logger): Promise<RunOutcome> {
    const upstreamError = err instanceof UpstreamError ? err : null;
    if (!upstreamError) throw err; // our own fault (e.g. MongoDB): let the queue retry it
    if (upstreamError.retryable && ctx.attempt < ctx.maxAttempts) {
      log.warn({ status: upstreamError.status, retryAfterMs: upstreamError.retryAfterMs }, `transient upstream failure: ${upstreamError.message}`);
      throw new RetryableJobError(upstreamError.message, upstreamError.retryAfterMs);
    }
    const suffix = upstreamError.retryable ? ` (after ${ctx.attempt} attempts)` : '';
    log.warn({ status: upstreamError.status }, `upstream call failed for good: ${upstreamError.message}`);
    await this.recordFailure(key, { code: errorCode(upstreamError), message: `${upstreamError.message}${suffix}` }, failureHttpStatus(upstreamError));
    return 'failed';
  }

  private async announceTerminal(responseId: string): Promise<void> {
    try {
      await this.bus.publish(BusChannel.Terminal, responseId);
    } catch (err) {
      // Waiters also poll MongoDB, so a lost notice only delays them.
      this.log.warn({ err: (err as Error).message, responseId }, 'could not publish terminal notice');
    }
  }

  /**
   * The cancel bus is at-most-once; re-reading the durable flag now and then closes the gap,
   * so a cancel whose message was lost still stops the upstream call within cancelPollMs.
   */
  private watchCancelFlag(key: ResponseKey): { signal: AbortSignal; stop: () => void } {
    const controller = new AbortController();
    const timer = setInterval(() => {
      this.repo
        .find(key)
        .then((r) => {
          if (!r || r.status !== 'in_progress') controller.abort();
        })
        .catch(() => undefined);
    }, this.config.cancelPollMs);
    timer.unref();
    return { signal: controller.signal, stop: () => clearInterval(timer) };
  }
}

/** The stored request, as the upstream should receive it: unknown fields intact. */
export function upstreamRequest(record: ResponseRecord): Record<string, unknown> {
  const body: Record<string, unknown> = { ...record.commonData.requestRawData };
  for (const field of NOT_FORWARDED) delete body[field];
  return body;
}

function resultChanges(body: Record<string, unknown>): ResponseChanges {
  const upstreamStatus = body.status as ResponseStatus | undefined;
  const status: ResponseStatus = upstreamStatus === 'incomplete' || upstreamStatus === 'failed' ? upstreamStatus : 'completed';
  const usage = (body.usage ?? null) as Record<string, unknown> | null;
  const input = typeof usage?.input_tokens === 'number' ? usage.input_tokens : 0;
  const output = typeof usage?.output_tokens === 'number' ? usage.output_tokens : 0;
  return {
    status,
    output: Array.isArray(body.output) ? (body.output as Record<string, unknown>[]) : [],
    usage,
    error: status === 'failed' ? ((body.error as { code: string; message: string }) ?? { code: 'server_error', message: 'The model failed to generate a response.' }) : null,
    errorStatus: status === 'failed' ? 500 : null,
    incompleteDetails: (body.incomplete_details ?? null) as Record<string, unknown> | null,
    completedAt: status === 'completed' ? new Date() : null,
    'commonData.responseRawData': body,
    'commonData.usage': { input_text: input, output_text: output },
  } as ResponseChanges;
}

function errorCode(err: UpstreamError): string {
  if (err.status === 429) return 'rate_limit_exceeded';
  if (err.status !== null && err.status >= 400 && err.status < 500) return err.upstreamCode ?? 'invalid_prompt';
  return 'server_error';
}

/** A synchronous caller sees the upstream's 4xx as is; everything else is a 502 from us. */
function failureHttpStatus(err: UpstreamError): number {
  if (err.status !== null && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429) return err.status;
  if (err.status === 429) return 429;
  return 502;
}
