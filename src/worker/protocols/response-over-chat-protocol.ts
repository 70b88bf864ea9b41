import { Injectable } from '@nestjs/common';
import type { ResponseRecord } from '../../domain/call';
import type { LogEvent } from '../../domain/events';
import { newId } from '../../domain/ids';
import type { JsonObject } from '../../domain/json';
import { startedEvents } from '../../domain/response-events';
import { chatRequestFor } from '../../domain/responses-over-chat/request';
import { ChatStreamTranslator } from '../../domain/responses-over-chat/stream';
import type { EventSink } from '../../infra/event-log.service';
import { TurnHistory } from '../turn-history.service';
import type { UpstreamClient } from '../upstream.client';
import { UpstreamError } from '../upstream-error';
import { type CallResult, parseEventData, type Produced, type UpstreamProtocol } from './protocol';
import { ResponseProtocol, responseResult } from './response-protocol';

/**
 * Responses on a route that speaks only Chat Completions (llama.cpp, many hosted APIs): the request is translated to
 * a chat request (context and tools included), streamed, and its chunks turned into the Responses event sequence
 * with our item ids, so streams, background polling, resume and the SDK's strict `responses.stream()` work as on a
 * Responses upstream. Requests the chat protocol cannot express were refused by the api before they were queued.
 */
@Injectable()
export class ResponseOverChatProtocol implements UpstreamProtocol<ResponseRecord> {
  constructor(
    private readonly history: TurnHistory,
    private readonly native: ResponseProtocol,
  ) {}

  async execute(
    upstream: UpstreamClient,
    record: ResponseRecord,
    signal: AbortSignal,
    sink: EventSink | null,
    produced: Produced,
  ): Promise<JsonObject> {
    const request = record.commonData.requestRawData;
    const body = {
      ...chatRequestFor(request, await this.history.contextOf(record)),
      stream: true,
      stream_options: { include_usage: true },
    };
    const translator = new ChatStreamTranslator((prefix) => newId(prefix));
    const publish = (events: JsonObject[]) => {
      for (const e of events) {
        if (typeof e.type === 'string' && e.type.endsWith('.delta')) produced.outputDeltas++;
        sink?.emit({ data: JSON.stringify(e) });
      }
    };
    for await (const ev of await upstream.postStream('/chat/completions', body, signal)) {
      if (ev.data === '[DONE]') {
        const { events, result } = translator.finish();
        publish(events);
        return {
          status: result.status,
          model: result.model,
          output: result.output,
          usage: result.usage,
          incomplete_details: result.incompleteDetails,
        };
      }
      const chunk = parseEventData(ev.data);
      if (chunk.error) {
        const err = chunk.error as { message?: string; code?: string };
        const message = err.message ?? 'The upstream reported an error mid-stream.';
        throw new UpstreamError(message, null, true, null, err.code ?? null);
      }
      publish(translator.push(chunk));
      const usage = translator.usage;
      if (usage) produced.usage = { input: Number(usage.input_tokens) || 0, output: Number(usage.output_tokens) || 0 };
    }
    throw new UpstreamError('The upstream stream ended before [DONE].', null, true);
  }

  result(_record: ResponseRecord, body: JsonObject): CallResult<ResponseRecord> {
    return responseResult(body);
  }

  isLifecycleEvent(data: string): boolean {
    return this.native.isLifecycleEvent(data);
  }

  startedEvents(): LogEvent[] {
    return startedEvents();
  }
}
