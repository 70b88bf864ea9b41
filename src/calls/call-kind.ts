import type { EventSink, LogEvent } from '../events/event-log.service';
import type { JobName } from '../queue/jobs';
import type { UpstreamClient } from '../upstream/upstream.client';
import type { CallChanges, CallRecord } from './call-record';

/** What the worker got back from the upstream, mapped for one kind of call. */
export interface CallResult<R extends CallRecord> {
  changes: CallChanges<R>;
  tokens: { input: number; output: number };
}

/**
 * What differs between responses and chat completions as jobs: how the upstream is called, what
 * is stored, and which stream events are published. The lifecycle around it is shared
 * (CallRunner on the worker, CallLifecycle on the api).
 */
export interface CallKind<R extends CallRecord = CallRecord> {
  readonly job: JobName;
  /** For messages: "response", "chat completion". */
  readonly noun: string;
  readonly repo: import('./call-records.repository').CallRecordsRepository<R>;
  notFoundMessage(id: string): string;
  /** Whether this call publishes its events to the shared event log (streamed or background). */
  logsEvents(record: R): boolean;
  /**
   * Calls the upstream and returns its final answer (a Response / ChatCompletion body). When the
   * call is logged, stream events go to `sink` as they arrive.
   */
  execute(upstream: UpstreamClient, record: R, signal: AbortSignal, sink: EventSink | null): Promise<Record<string, unknown>>;
  result(record: R, body: Record<string, unknown>): CallResult<R>;
  /** Whether a logged payload is a lifecycle event (not output), to tell if output was streamed. */
  isLifecycleEvent(data: string): boolean;
  /** Events published when a worker starts the call (after queued -> in_progress). */
  startedEvents(record: R): LogEvent[];
  /** The closing event for a record in a terminal state (not cancelled). */
  terminalEvent(record: R): LogEvent;
}

/** Request fields we act on ourselves and never send upstream as given. */
const NOT_FORWARDED = ['background', 'stream', 'stream_options'];

/** The stored request as the upstream should receive it: unknown fields intact. */
export function forwardedRequest(record: CallRecord): Record<string, unknown> {
  const body: Record<string, unknown> = { ...record.commonData.requestRawData };
  for (const field of NOT_FORWARDED) delete body[field];
  return body;
}

/** Parses one upstream SSE data payload; a malformed one is the upstream's fault. */
export function parseEventData(data: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(data) as unknown;
    if (typeof parsed === 'object' && parsed !== null) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new Error(`upstream sent an event that is not a JSON object: ${data.slice(0, 80)}`);
}
