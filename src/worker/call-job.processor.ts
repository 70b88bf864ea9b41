import { Injectable } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import type { CallKind } from '../calls/call-kind';
import type { CallRecord } from '../calls/call-record';
import { CallRunner, type RunOutcome } from '../calls/call-runner.service';
import { ChatCallKind } from '../chat/chat-call.kind';
import { JobName, type RunCallPayload } from '../queue/jobs';
import { ResponseCallKind } from '../responses/response-call.kind';

/** Adapter from a BullMQ job to the runner: check the payload, pick the kind, run. */
@Injectable()
export class CallJobProcessor {
  private readonly kinds: { [J in JobName]: CallKind<CallRecord> };

  constructor(private readonly runner: CallRunner, responses: ResponseCallKind, chat: ChatCallKind) {
    this.kinds = {
      [JobName.RunResponse]: responses as unknown as CallKind<CallRecord>,
      [JobName.RunChatCompletion]: chat as unknown as CallKind<CallRecord>,
    };
  }

  async process(job: Job<RunCallPayload>, signal: AbortSignal): Promise<RunOutcome> {
    const { kind, payload } = this.parse(job);
    return this.runner.run(kind, payload, { attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? 1, signal });
  }

  /** After the last attempt failed (or the job stalled too often): record it once. */
  async onFinalFailure(job: Job<RunCallPayload>, err: Error): Promise<void> {
    const { kind, payload } = this.parse(job);
    await this.runner.recordFailure(kind, payload, { code: 'server_error', message: `The ${kind.noun} could not be completed: ${err.message}` }, 500);
  }

  private parse(job: Job<RunCallPayload>): { kind: CallKind<CallRecord>; payload: RunCallPayload } {
    const kind = this.kinds[job.name as JobName];
    const { responseId, userId, requestId } = job.data ?? ({} as RunCallPayload);
    if (!kind || typeof responseId !== 'string' || typeof userId !== 'string') {
      throw new UnrecoverableError(`malformed job ${job.name}/${job.id}`);
    }
    return { kind, payload: { responseId, userId, requestId: requestId ?? '' } };
  }
}
