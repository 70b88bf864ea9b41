import { Injectable } from '@nestjs/common';
import { type CallKind, type CallResult, forwardedRequest } from '../calls/call-kind';
import type { CallStatus } from '../calls/call-record';
import { JobName } from '../queue/jobs';
import type { ResponseRecord } from './response.schema';
import { ResponsesRepository } from './responses.repository';

/** Responses as jobs: POST the stored request to the upstream's /responses; keep its output. */
@Injectable()
export class ResponseCallKind implements CallKind<ResponseRecord> {
  readonly job = JobName.RunResponse;
  readonly noun = 'response';
  readonly upstreamPath = '/responses';

  constructor(readonly repo: ResponsesRepository) {}

  notFoundMessage(id: string): string {
    return `Response with id '${id}' not found.`;
  }

  upstreamRequest(record: ResponseRecord): Record<string, unknown> {
    return forwardedRequest(record);
  }

  result(_record: ResponseRecord, body: Record<string, unknown>): CallResult<ResponseRecord> {
    const upstreamStatus = body.status as CallStatus | undefined;
    const status: CallStatus = upstreamStatus === 'incomplete' || upstreamStatus === 'failed' ? upstreamStatus : 'completed';
    const usage = (body.usage ?? null) as Record<string, unknown> | null;
    const failure = (body.error ?? { code: 'server_error', message: 'The model failed to generate a response.' }) as { code: string; message: string };
    return {
      changes: {
        status,
        output: Array.isArray(body.output) ? (body.output as Record<string, unknown>[]) : [],
        usage,
        error: status === 'failed' ? failure : null,
        errorStatus: status === 'failed' ? 500 : null,
        incompleteDetails: (body.incomplete_details ?? null) as Record<string, unknown> | null,
        completedAt: status === 'completed' ? new Date() : null,
      },
      tokens: { input: numberOr0(usage?.input_tokens), output: numberOr0(usage?.output_tokens) },
    };
  }
}

export const numberOr0 = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
