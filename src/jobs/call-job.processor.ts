import { Inject, Injectable } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import { ChatCalls, ResponseCalls } from '../application/call-kinds';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/tokens';
import type { CallErrorInfo } from '../domain/call';
import { JobProducer } from '../infra/job-producer.service';
import { callQueue, JobName, type RunCallPayload } from '../infra/jobs';
import { CallFinisher } from '../worker/call-finisher.service';
import { CallRunner, type RunContext, type RunOutcome } from '../worker/call-runner.service';
import { ChatProtocol } from '../worker/protocols/chat-protocol';
import { ResponseOverChatProtocol } from '../worker/protocols/response-over-chat-protocol';
import { ResponseProtocol } from '../worker/protocols/response-protocol';
import { UpstreamClients } from '../worker/upstream.client';

interface JobHandlers {
  run(payload: RunCallPayload, ctx: RunContext, overChatRoute: boolean): Promise<RunOutcome>;
  fail(payload: RunCallPayload, error: CallErrorInfo): Promise<boolean>;
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
    finisher: CallFinisher,
    responses: ResponseCalls,
    responseProtocol: ResponseProtocol,
    overChat: ResponseOverChatProtocol,
    chat: ChatCalls,
    chatProtocol: ChatProtocol,
    private readonly clients: UpstreamClients,
    private readonly producer: JobProducer,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.routes = new Map(
      config.routes.map((r) => [callQueue(r.name), { name: r.name, overChat: r.protocol === 'chat' }]),
    );
    this.handlers = new Map<string, JobHandlers>([
      [
        JobName.RunResponse,
        {
          // A Responses call on a chat-only route is translated both ways.
          run: (p, ctx, overChatRoute) => runner.run(responses, overChatRoute ? overChat : responseProtocol, p, ctx),
          fail: (p, e) => finisher.fail(responses, p, e, 500),
          noun: responses.noun,
        },
      ],
      [
        JobName.RunChatCompletion,
        {
          run: (p, ctx) => runner.run(chat, chatProtocol, p, ctx),
          fail: (p, e) => finisher.fail(chat, p, e, 500),
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
        await this.producer.enqueue(job.name as JobName, moved.responseId, moved, next, job.opts.priority ?? 1);
      },
    };
    return handlers.run(payload, ctx, route.overChat);
  }

  /**
   * After the last attempt failed (or the job stalled too often): record it once. Clients see a plain message; what
   * went wrong inside (a driver's message, a stack) stays in the worker's log.
   */
  async onFinalFailure(job: Job<RunCallPayload>, _err: Error): Promise<void> {
    const { handlers, payload } = this.parse(job);
    await handlers.fail(payload, { code: 'server_error', message: `The ${handlers.noun} could not be completed.` });
  }

  private parse(job: Job<RunCallPayload>): { handlers: JobHandlers; payload: RunCallPayload } {
    const handlers = this.handlers.get(job.name);
    const { responseId, userId, requestId, keyId, attemptsBefore } = job.data ?? ({} as RunCallPayload);
    if (!handlers || typeof responseId !== 'string' || typeof userId !== 'string') {
      throw new UnrecoverableError(`malformed job ${job.name}/${job.id}`);
    }
    const payload: RunCallPayload = { responseId, userId, requestId: requestId ?? '' };
    if (typeof keyId === 'string') payload.keyId = keyId;
    if (typeof attemptsBefore === 'number' && Number.isInteger(attemptsBefore) && attemptsBefore > 0)
      payload.attemptsBefore = attemptsBefore;
    return { handlers, payload };
  }
}
