import type { JobName } from '../queue/jobs';
import type { CallChanges, CallRecord } from './call-record';
import type { CallRecordsRepository } from './call-records.repository';

/** What the worker got back from the upstream, mapped for one kind of call. */
export interface CallResult<R extends CallRecord> {
  changes: CallChanges<R>;
  tokens: { input: number; output: number };
}

/**
 * What differs between responses and chat completions as jobs: where the upstream call goes,
 * what is sent, and how the answer is stored. The lifecycle around it is shared (CallRunner).
 */
export interface CallKind<R extends CallRecord = CallRecord> {
  readonly job: JobName;
  /** For messages: "response", "chat completion". */
  readonly noun: string;
  notFoundMessage(id: string): string;
  readonly repo: CallRecordsRepository<R>;
  readonly upstreamPath: string;
  upstreamRequest(record: R): Record<string, unknown>;
  result(record: R, body: Record<string, unknown>): CallResult<R>;
}

/** Request fields we act on ourselves and never send upstream. */
const NOT_FORWARDED = ['background', 'stream', 'stream_options'];

/** The stored request as the upstream should receive it: unknown fields intact. */
export function forwardedRequest(record: CallRecord): Record<string, unknown> {
  const body: Record<string, unknown> = { ...record.commonData.requestRawData };
  for (const field of NOT_FORWARDED) delete body[field];
  return body;
}
