import type { LogEvent } from './events';
import type { ResponseRecord } from './call';
import { toResponseObject } from './response-view';

/** An event payload with `type` first (readers take the SSE `event:` name from it). */
export function event(type: string, fields: Record<string, unknown>, end = false): LogEvent {
  return { data: JSON.stringify({ type, ...fields }), end };
}

/** What the api logs when it accepts a streamed or background response. */
export function acceptedEvents(record: ResponseRecord): LogEvent[] {
  const response = toResponseObject(record);
  const events = [event('response.created', { response })];
  if (record.background) events.push(event('response.queued', { response }));
  return events;
}

export function startedEvents(record: ResponseRecord): LogEvent[] {
  return [event('response.in_progress', { response: toResponseObject(record) })];
}

const TERMINAL_EVENT: ReadonlyMap<string, string> = new Map([
  ['completed', 'response.completed'],
  ['failed', 'response.failed'],
  ['incomplete', 'response.incomplete'],
]);

/** The closing lifecycle event, carrying the complete response (the SDK replaces its snapshot). */
export function terminalEvent(record: ResponseRecord): LogEvent {
  return event(TERMINAL_EVENT.get(record.status) ?? 'response.failed', { response: toResponseObject(record) }, true);
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
  const accepted = {
    ...record,
    status: 'queued' as const,
    output: [],
    usage: null,
    completedAt: null,
    error: null,
    incompleteDetails: null,
  };
  const events = acceptedEvents(accepted);
  events.push(...startedEvents({ ...accepted, status: 'in_progress' }));
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
