import type { CallChanges, CallRecord } from '../../domain/call';
import type { LogEvent } from '../../domain/events';
import type { JsonObject } from '../../domain/json';
import type { EventSink } from '../../infra/event-log.service';
import type { UpstreamClient } from '../upstream.client';
import { UpstreamError } from '../upstream-error';

/** What the worker got back from the upstream, mapped for one kind of call. */
export interface CallResult<R extends CallRecord> {
  changes: CallChanges<R>;
  tokens: { input: number; output: number };
  /** The model the upstream says it ran (it prices the call), when it said. */
  servedModel?: string | null;
}

/** What the upstream produced so far, updated as it streams: to bill a call that ends before its final answer. */
export interface Produced {
  /** Output deltas seen (text and tool-call arguments); streams send about one token per delta. */
  outputDeltas: number;
  /** The upstream's own count, when it sent one before the end. */
  usage: { input: number; output: number } | null;
}

export const nothingProduced = (): Produced => ({ outputDeltas: 0, usage: null });

/**
 * How one kind of call is run against an upstream: the worker's half of a kind (the api never loads it). `execute`
 * calls the upstream and returns its final answer; when the call is logged, stream events go to `sink` as they arrive.
 */
export interface UpstreamProtocol<R extends CallRecord> {
  execute(
    upstream: UpstreamClient,
    record: R,
    signal: AbortSignal,
    sink: EventSink | null,
    produced: Produced,
  ): Promise<JsonObject>;
  result(record: R, body: JsonObject): CallResult<R>;
  /** Whether a logged payload is a lifecycle event (not output), to tell if output was streamed. */
  isLifecycleEvent(data: string): boolean;
  /** Events published when a worker starts the call (after queued -> in_progress). */
  startedEvents(record: R): LogEvent[];
}

/** The stored request as the upstream should receive it: unknown fields intact, but not those we act on ourselves. */
export function forwardedRequest(record: CallRecord): JsonObject {
  const request = record.commonData.requestRawData;
  // Conversation state is resolved by us, so the upstream never sees our ids.
  const {
    background: _b,
    stream: _s,
    stream_options: _o,
    previous_response_id: _p,
    conversation: _c,
    ...body
  } = request;
  return body;
}

/** Parses one upstream SSE data payload; a malformed one is the upstream's fault. */
export function parseEventData(data: string): JsonObject {
  try {
    const parsed = JSON.parse(data) as unknown;
    if (typeof parsed === 'object' && parsed !== null) return parsed as JsonObject;
  } catch {
    // fall through
  }
  throw new UpstreamError('The upstream sent a stream event that is not a JSON object.', null, true);
}
