import { chatText, firstChoice, logprobsFrom, modelOf, outputText, usageFromChat } from './answer';
import { incompleteFor, isObject, objects, text, type JsonObject, type NewId, type ResponseResult } from './types';

export type { ResponseResult } from './types';

/** One Responses stream event payload WITHOUT sequence_number (the caller numbers them), `type` first. */
export type ResponseEvent = JsonObject & { type: string };

type ItemStatus = 'completed' | 'incomplete';

interface OpenPart {
  kind: 'output_text' | 'refusal';
  text: string;
  logprobs: JsonObject[];
}

interface MessageState {
  kind: 'message';
  id: string;
  index: number;
  parts: OpenPart[];
}

interface CallState {
  kind: 'call';
  id: string;
  index: number;
  callId: string;
  name: string;
  arguments: string;
  // Set once the item is closed, so arguments that straggle in afterwards still reach the final output.
  item: JsonObject | null;
}

function event(type: string, fields: JsonObject): ResponseEvent {
  return { type, ...fields };
}

/**
 * Turns Chat Completions stream chunks into the Responses event sequence between `response.in_progress` and the
 * terminal event (the caller emits created/queued/in_progress and the terminal lifecycle event itself with its own
 * Response object). push() returns the events a chunk produces; finish() closes every open part and item and returns
 * the closing events plus the final ResponseResult (same shape as answer.ts) to build the terminal Response from.
 */
export class ChatStreamTranslator {
  private readonly output: JsonObject[] = [];
  private open: MessageState | CallState | null = null;
  private readonly calls = new Map<number, CallState>();
  private lastCall: CallState | null = null;
  private finishReason: unknown = null;
  private seenUsage: JsonObject | null = null;
  private model: string | null = null;
  private produced = '';
  private result: ResponseResult | null = null;

  constructor(private readonly newId: NewId) {}

  /** Output emitted so far (for billing a cancelled call): characters of text and arguments. */
  get producedText(): string {
    return this.produced;
  }

  /** The upstream's usage if a chunk carried it yet (Responses shape), for billing a cancelled call exactly. */
  get usage(): JsonObject | null {
    return this.seenUsage;
  }

  push(chunk: JsonObject): ResponseEvent[] {
    const events: ResponseEvent[] = [];
    if (this.result) return events;
    this.model = modelOf(chunk) ?? this.model;
    // Usage normally rides a final chunk with no choices, but some servers repeat a running total on every chunk.
    if (isObject(chunk.usage)) this.seenUsage = usageFromChat(chunk.usage);
    const choice = firstChoice(chunk.choices);
    if (!choice) return events;
    const delta = isObject(choice.delta) ? choice.delta : {};
    const content = chatText(delta.content);
    if (content !== '') this.appendText('output_text', content, logprobsFrom(choice.logprobs), events);
    const refusal = text(delta.refusal);
    if (refusal !== '') this.appendText('refusal', refusal, [], events);
    for (const call of objects(delta.tool_calls)) this.appendCall(call, events);
    if (choice.finish_reason != null) this.finishReason = choice.finish_reason;
    return events;
  }

  finish(): { events: ResponseEvent[]; result: ResponseResult } {
    if (this.result) return { events: [], result: this.result };
    const incompleteDetails = incompleteFor(this.finishReason);
    const status = incompleteDetails ? 'incomplete' : 'completed';
    const events: ResponseEvent[] = [];
    this.closeOpen(status, events);
    this.result = { status, output: this.output, incompleteDetails, usage: this.seenUsage, model: this.model };
    return { events, result: this.result };
  }

  private appendText(kind: OpenPart['kind'], delta: string, logprobs: JsonObject[], events: ResponseEvent[]): void {
    const message = this.openMessage(events);
    let part = message.parts.at(-1);
    if (part?.kind !== kind) {
      // The last part of an open message is always open; a change of kind closes it and starts the next.
      if (part) this.closePart(message, events);
      part = { kind, text: '', logprobs: [] };
      message.parts.push(part);
      const empty = kind === 'output_text' ? outputText('', []) : { type: 'refusal', refusal: '' };
      events.push(event('response.content_part.added', { ...this.where(message), part: empty }));
    }
    part.text += delta;
    part.logprobs.push(...logprobs);
    this.produced += delta;
    events.push(
      kind === 'output_text'
        ? event('response.output_text.delta', { ...this.where(message), delta, logprobs })
        : event('response.refusal.delta', { ...this.where(message), delta }),
    );
  }

  private openMessage(events: ResponseEvent[]): MessageState {
    if (this.open?.kind === 'message') return this.open;
    this.closeOpen('completed', events);
    const message: MessageState = { kind: 'message', id: this.newId('msg_'), index: this.output.length, parts: [] };
    this.open = message;
    const item = { type: 'message', id: message.id, status: 'in_progress', role: 'assistant', content: [] };
    events.push(event('response.output_item.added', { output_index: message.index, item }));
    return message;
  }

  private appendCall(chunk: JsonObject, events: ResponseEvent[]): void {
    const fn = isObject(chunk.function) ? chunk.function : {};
    const id = text(chunk.id);
    const key = typeof chunk.index === 'number' ? chunk.index : null;
    let call = key === null ? this.lastCall : this.calls.get(key);
    // Servers differ: most send the id once, some repeat it on every chunk, a few reuse index 0 for every call.
    if (call && id !== '' && id !== call.callId) call = undefined;
    if (!call) call = this.openCall(id, text(fn.name), key, events);
    else if (call.name === '' && text(fn.name) !== '') call.name = text(fn.name);

    const args = text(fn.arguments);
    if (args === '') return;
    call.arguments += args;
    this.produced += args;
    if (call === this.open) {
      const fields = { item_id: call.id, output_index: call.index, delta: args };
      events.push(event('response.function_call_arguments.delta', fields));
    } else if (call.item) {
      // Its item is already done (another item opened since); Responses cannot reopen it, so only the result learns.
      call.item.arguments = call.arguments;
    }
  }

  private openCall(callId: string, name: string, key: number | null, events: ResponseEvent[]): CallState {
    this.closeOpen('completed', events);
    const call: CallState = {
      kind: 'call',
      id: this.newId('fc_'),
      index: this.output.length,
      callId: callId || this.newId('call_'),
      name,
      arguments: '',
      item: null,
    };
    this.open = call;
    this.lastCall = call;
    if (key !== null) this.calls.set(key, call);
    const item = {
      type: 'function_call',
      id: call.id,
      call_id: call.callId,
      name,
      arguments: '',
      status: 'in_progress',
    };
    events.push(event('response.output_item.added', { output_index: call.index, item }));
    return call;
  }

  private closeOpen(status: ItemStatus, events: ResponseEvent[]): void {
    const open = this.open;
    if (!open) return;
    this.open = null;
    let item: JsonObject;
    if (open.kind === 'message') {
      if (open.parts.length > 0) this.closePart(open, events);
      const content = open.parts.map(partJson);
      item = { type: 'message', id: open.id, status, role: 'assistant', content };
    } else {
      const fields = { item_id: open.id, output_index: open.index, name: open.name, arguments: open.arguments };
      events.push(event('response.function_call_arguments.done', fields));
      item = {
        type: 'function_call',
        id: open.id,
        call_id: open.callId,
        name: open.name,
        arguments: open.arguments,
        status,
      };
      open.item = item;
    }
    this.output.push(item);
    events.push(event('response.output_item.done', { output_index: open.index, item: structuredClone(item) }));
  }

  private closePart(message: MessageState, events: ResponseEvent[]): void {
    const part = message.parts.at(-1);
    if (!part) return;
    const where = this.where(message);
    events.push(
      part.kind === 'output_text'
        ? event('response.output_text.done', { ...where, text: part.text, logprobs: part.logprobs })
        : event('response.refusal.done', { ...where, refusal: part.text }),
    );
    events.push(event('response.content_part.done', { ...where, part: partJson(part) }));
  }

  private where(message: MessageState): JsonObject {
    return { item_id: message.id, output_index: message.index, content_index: message.parts.length - 1 };
  }
}

function partJson(part: OpenPart): JsonObject {
  if (part.kind === 'refusal') return { type: 'refusal', refusal: part.text };
  return outputText(part.text, [...part.logprobs]);
}
