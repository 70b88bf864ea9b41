import { Inject, Injectable } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import { type CallKind, ChatCalls, ResponseCalls, withRepo } from '../application/call-kinds';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/tokens';
import type { CallErrorInfo, CallRecord } from '../domain/call';
import { revive } from '../domain/ephemeral';
import { EphemeralCalls } from '../infra/ephemeral-calls.service';
import { JobProducer } from '../infra/job-producer.service';
import { RateLimiter } from '../infra/rate-limiter.service';
import { callQueue, JobName, type RunCallPayload } from '../infra/jobs';
import { CallFinisher } from '../worker/call-finisher.service';
import { CallRunner, type RunContext, type RunOutcome } from '../worker/call-runner.service';
import { EphemeralCallStore } from '../worker/ephemeral-call-store';
import { ChatProtocol } from '../worker/protocols/chat-protocol';
import { ResponseOverChatProtocol } from '../worker/protocols/response-over-chat-protocol';
import { ResponseProtocol } from '../worker/protocols/response-protocol';
import { UpstreamClients } from '../worker/upstream.client';

interface JobHandlers {
  kind: CallKind;
  run(kind: CallKind, payload: RunCallPayload, ctx: RunContext, overChatRoute: boolean): Promise<RunOutcome>;
  fail(kind: CallKind, payload: RunCallPayload, error: CallErrorInfo): Promise<boolean>;
  noun: string;
}

/** Adapter from a BullMQ job to the runner: check the payload, pick the kind and its protocol, run. */
@Injectable()
export class CallJobProcessor {
  private readonly handlers: ReadonlyMap<string, JobHandlers>;

  /** Route by queue name: a job's queue is its route. */
  private readonly routes: ReadonlyMap<string, { name: string; overChat: boolean }>;

  constructor(
    runner: CallRunner,
    private readonly finisher: CallFinisher,
    responses: ResponseCalls,
    responseProtocol: ResponseProtocol,
    overChat: ResponseOverChatProtocol,
    chat: ChatCalls,
    chatProtocol: ChatProtocol,
    private readonly clients: UpstreamClients,
    private readonly producer: JobProducer,
    private readonly ephemeral: EphemeralCalls,
    private readonly limiter: RateLimiter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.routes = new Map(
      config.routes.map((r) => [callQueue(r.name), { name: r.name, overChat: r.protocol === 'chat' }]),
    );
    this.handlers = new Map<string, JobHandlers>([
      [
        JobName.RunResponse,
        {
          kind: responses as CallKind,
          // A Responses call on a chat-only route is translated both ways.
          run: (k, p, ctx, overChatRoute) =>
            runner.run(k as typeof responses, overChatRoute ? overChat : responseProtocol, p, ctx),
          fail: (k, p, e) => finisher.fail(k, p, e, 500),
          noun: responses.noun,
        },
      ],
      [
        JobName.RunChatCompletion,
        {
          kind: chat,
          run: (k, p, ctx) => runner.run(k, chatProtocol, p, ctx),
          fail: (k, p, e) => finisher.fail(k, p, e, 500),
          noun: chat.noun,
        },
      ],
    ]);
  }

  async process(job: Job<RunCallPayload>, signal: AbortSignal): Promise<RunOutcome> {
    const { handlers, payload } = this.parse(job);
    const route = this.routes.get(job.queueName);
    if (!route) throw new UnrecoverableError(`job ${job.id} is on ${job.queueName}, which no configured route has`);
    const ctx: RunContext = {
      attempt: (payload.attemptsBefore ?? 0) + job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? 1,
      signal,
      upstream: this.clients.for(route.name),
      pauseRoute: (ms) => this.producer.queue(route.name).rateLimit(ms),
      moveTo: async (next, moved) => {
        // A job this call left on that route earlier (completed as 'moved') would make the add a no-op.
        await this.producer.removeJob(moved.responseId, next).catch(() => undefined);
        const carried = moved.call ? { ...moved, call: { ...moved.call, route: next } } : moved;
        await this.producer.enqueue(job.name as JobName, moved.responseId, carried, next, job.opts.priority ?? 1);
      },
    };
    const store = this.ephemeralStore(handlers.kind, job, payload);
    if (!store) return handlers.run(handlers.kind, payload, ctx, route.overChat);
    // Answered before its worker stopped: only the tombstone was missing, and the upstream is not called again.
    if (await this.replayIfAnswered(store)) return 'completed';
    const outcome = await handlers.run(withRepo(handlers.kind, store), payload, ctx, route.overChat);
    // After the answer: the usage tombstone (retried while MongoDB is away; the job is handed back after that).
    await this.finisher.store(() => store.flush(outcome), this.config.storeWriteRetryMs);
    return outcome;
  }

  /** The in-memory record of a call that keeps nothing (null for a call with a MongoDB record). */
  private ephemeralStore(
    kind: CallKind,
    job: Job<RunCallPayload>,
    payload: RunCallPayload,
  ): EphemeralCallStore<CallRecord> | null {
    if (!payload.call) return null;
    const rerun = (job.attemptsStarted ?? 1) > 1 || (payload.attemptsBefore ?? 0) > 0;
    const record = revive<CallRecord>(payload.call);
    const own = {
      key: `${job.queueQualifiedName}:${job.id}`,
      dataWith: (call: CallRecord) => ({ ...job.data, call }),
      // This process's copy follows Redis's: a final failure handled here then sees the call was answered.
      forgot: (data: object) => void (job.data = data as RunCallPayload),
      release: () => this.limiter.release(record.keyId, record.responseId),
    };
    return new EphemeralCallStore(record, rerun, this.ephemeral, kind.repo, own);
  }

  /**
   * After the last attempt failed (or the job stalled too often): record it once. Clients see a plain message; what
   * went wrong inside (a driver's message, a stack) stays in the worker's log.
   */
  async onFinalFailure(job: Job<RunCallPayload>, _err: Error): Promise<void> {
    const { handlers, payload } = this.parse(job);
    const error = { code: 'server_error', message: `The ${handlers.noun} could not be completed.` };
    const store = this.ephemeralStore(handlers.kind, job, payload);
    if (!store) {
      await handlers.fail(handlers.kind, payload, error);
      return;
    }
    // Its client has the answer already (the tombstone write is what failed, or the job stalled after it).
    if (await this.replayIfAnswered(store)) return;
    await handlers.fail(withRepo(handlers.kind, store), payload, error);
    await this.finisher.store(() => store.flush('failed'), this.config.storeWriteRetryMs);
  }

  /** A job whose data holds its call's finished record was answered: its tombstone (and slot) are all that is owed. */
  private async replayIfAnswered(records: EphemeralCallStore<CallRecord>): Promise<boolean> {
    if (!records.answered) return false;
    await this.finisher.store(() => records.replayAnswered(), this.config.storeWriteRetryMs);
    return true;
  }

  private parse(job: Job<RunCallPayload>): { handlers: JobHandlers; payload: RunCallPayload } {
    const handlers = this.handlers.get(job.name);
    const { responseId, userId, requestId, keyId, attemptsBefore, call } = job.data ?? ({} as RunCallPayload);
    if (!handlers || typeof responseId !== 'string' || typeof userId !== 'string') {
      throw new UnrecoverableError(`malformed job ${job.name}/${job.id}`);
    }
    const payload: RunCallPayload = { responseId, userId, requestId: requestId ?? '' };
    if (typeof keyId === 'string') payload.keyId = keyId;
    if (typeof attemptsBefore === 'number' && Number.isInteger(attemptsBefore) && attemptsBefore > 0)
      payload.attemptsBefore = attemptsBefore;
    if (call && typeof call === 'object' && call.userId === userId && call.responseId === responseId)
      payload.call = call;
    return { handlers, payload };
  }
}
