import { Injectable } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import type { RunResponsePayload } from '../queue/jobs';
import { ResponseRunner, type RunOutcome } from '../responses/response-runner.service';

/** Adapter from a BullMQ job to the runner: check the payload, run, map the outcome. */
@Injectable()
export class ResponseJobProcessor {
  constructor(private readonly runner: ResponseRunner) {}

  async process(job: Job<RunResponsePayload>, signal: AbortSignal): Promise<RunOutcome> {
    const { responseId, userId, requestId } = job.data ?? ({} as RunResponsePayload);
    if (typeof responseId !== 'string' || typeof userId !== 'string') {
      throw new UnrecoverableError(`malformed payload for job ${job.id}`);
    }
    return this.runner.run(
      { responseId, userId, requestId: requestId ?? '' },
      { attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? 1, signal },
    );
  }

  /** After the last attempt failed (or the job stalled too often): record it once. */
  async onFinalFailure(job: Job<RunResponsePayload>, err: Error): Promise<void> {
    const { responseId, userId } = job.data ?? ({} as RunResponsePayload);
    if (typeof responseId !== 'string' || typeof userId !== 'string') return;
    await this.runner.recordFailure(
      { userId, responseId },
      { code: 'server_error', message: `The response could not be completed: ${err.message}` },
      500,
    );
  }
}
