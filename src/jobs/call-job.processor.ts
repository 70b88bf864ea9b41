import { Injectable } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import { ChatCalls, ResponseCalls } from '../application/call-kinds';
import type { CallErrorInfo } from '../domain/call';
import { JobName, type RunCallPayload } from '../infra/jobs';
import { CallFinisher } from '../worker/call-finisher.service';
import { CallRunner, type RunContext, type RunOutcome } from '../worker/call-runner.service';
import { ChatProtocol } from '../worker/protocols/chat-protocol';
import { ResponseProtocol } from '../worker/protocols/response-protocol';

interface JobHandlers {
  run(payload: RunCallPayload, ctx: RunContext): Promise<RunOutcome>;
  fail(payload: RunCallPayload, error: CallErrorInfo): Promise<boolean>;
  noun: string;
}

/** Adapter from a BullMQ job to the runner: check the payload, pick the kind and its protocol, run. */
@Injectable()
export class CallJobProcessor {
  private readonly handlers: ReadonlyMap<string, JobHandlers>;

  constructor(
    runner: CallRunner,
    finisher: CallFinisher,
    responses: ResponseCalls,
    responseProtocol: ResponseProtocol,
    chat: ChatCalls,
    chatProtocol: ChatProtocol,
  ) {
    this.handlers = new Map<string, JobHandlers>([
      [
        JobName.RunResponse,
        {
          run: (p, ctx) => runner.run(responses, responseProtocol, p, ctx),
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
    return handlers.run(payload, { attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? 1, signal });
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
    const { responseId, userId, requestId } = job.data ?? ({} as RunCallPayload);
    if (!handlers || typeof responseId !== 'string' || typeof userId !== 'string') {
      throw new UnrecoverableError(`malformed job ${job.name}/${job.id}`);
    }
    return { handlers, payload: { responseId, userId, requestId: requestId ?? '' } };
  }
}
