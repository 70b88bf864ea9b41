import type { ResponseRecord } from './call';
import type { LogEvent } from './events';
import type { JsonObject } from './json';

/** An event payload with `type` first (readers take the SSE `event:` name from it). */
export function event(type: string, fields: Record<string, unknown>, end = false): LogEvent {
  return { data: JSON.stringify({ type, ...fields }), end };
}

/**
 * Which Response a lifecycle event carries: as it was when queued or started, or as it is at the end. The log keeps
 * only this name, never the Response itself, so the request (instructions, tools, input) is stored once, in MongoDB,
 * however many lifecycle events a stream has; readers fill it in from the record as they send the event.
 */
export type Snapshot = 'queued' | 'in_progress' | 'final';

function lifecycle(type: string, snapshot: Snapshot, end = false): LogEvent {
  return { data: JSON.stringify({ type, snapshot }), end };
}

/** What the api logs when it accepts a streamed or background response. */
export function acceptedEvents(record: ResponseRecord): LogEvent[] {
  const events = [lifecycle('response.created', 'queued')];
  if (record.background) events.push(lifecycle('response.queued', 'queued'));
  return events;
}

export function startedEvents(): LogEvent[] {
  return [lifecycle('response.in_progress', 'in_progress')];
}

const SNAPSHOT = /^\{"type":"[^"]+","snapshot":"(queued|in_progress|final)"\}$/;

/** The snapshot a logged lifecycle event refers to, or null for any other event. */
export function snapshotOf(data: string): Snapshot | null {
  return (SNAPSHOT.exec(data)?.[1] as Snapshot | undefined) ?? null;
}

/** A record as it looked in an earlier status: no output, usage or outcome yet. */
export function asItWas(record: ResponseRecord, status: 'queued' | 'in_progress'): ResponseRecord {
  return { ...record, status, output: [], usage: null, completedAt: null, error: null, incompleteDetails: null };
}

/** A lifecycle event filled in with its Response. */
export function withResponse(data: string, response: JsonObject): string {
  return JSON.stringify({ type: eventType(data), response });
}

const TERMINAL_EVENT: ReadonlyMap<string, string> = new Map([
  ['completed', 'response.completed'],
  ['failed', 'response.failed'],
  ['incomplete', 'response.incomplete'],
]);

/** The closing lifecycle event; it carries the complete response when sent (the SDK replaces its snapshot). */
export function terminalEvent(record: ResponseRecord): LogEvent {
  return lifecycle(TERMINAL_EVENT.get(record.status) ?? 'response.failed', 'final', true);
}

/** Upstream lifecycle events we replace with our own (our ids, our statuses). */
export const UPSTREAM_LIFECYCLE = new Set(['response.created', 'response.queued', 'response.in_progress']);
export const UPSTREAM_TERMINAL = new Set(['response.completed', 'response.failed', 'response.incomplete']);

/**
 * The event sequence of a finished response rebuilt from its stored state, for when its log has
 * expired: the same lifecycle, with each text part as one delta. A cancelled response replays
 * up to in_progress and ends without a terminal event, as it did live.
 */
export function replayEvents(record: ResponseRecord): LogEvent[] {
  const events = [...acceptedEvents(record), ...startedEvents()];
  if (record.status === 'cancelled') return events;
  record.output.forEach((item, outputIndex) => {
    const content = Array.isArray(item.content) ? (item.content as Record<string, unknown>[]) : [];
    events.push(
      event('response.output_item.added', {
        output_index: outputIndex,
        item: { ...item, status: 'in_progress', ...(item.type === 'message' ? { content: [] } : {}) },
      }),
    );
    if (item.type === 'message') {
      content.forEach((part, contentIndex) => {
        const where = { item_id: item.id, output_index: outputIndex, content_index: contentIndex };
        const text = typeof part.text === 'string' ? part.text : '';
        events.push(
          event('response.content_part.added', {
            ...where,
            part: { ...part, ...(part.type === 'output_text' ? { text: '' } : {}) },
          }),
        );
        if (part.type === 'output_text') {
          events.push(event('response.output_text.delta', { ...where, delta: text, logprobs: [] }));
          events.push(event('response.output_text.done', { ...where, text, logprobs: [] }));
        }
        events.push(event('response.content_part.done', { ...where, part }));
      });
    }
    events.push(event('response.output_item.done', { output_index: outputIndex, item }));
  });
  events.push(terminalEvent(record));
  return events;
}

/** Adds our sequence number to a stored payload (stored without it; the log id carries it). */
export function withSequence(data: string, seq: number): string {
  return `${data.slice(0, -1)}${data.length > 2 ? ',' : ''}"sequence_number":${seq}}`;
}

export function eventType(data: string): string {
  return /^\{"type":"([^"]+)"/.exec(data)?.[1] ?? 'message';
}
