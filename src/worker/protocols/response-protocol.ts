import { Injectable } from '@nestjs/common';
import type { CallStatus, ResponseRecord } from '../../domain/call';
import type { LogEvent } from '../../domain/events';
import { type JsonObject, numberOr0 } from '../../domain/json';
import { TurnHistory } from '../turn-history.service';
import { event, startedEvents, UPSTREAM_LIFECYCLE, UPSTREAM_TERMINAL } from '../../domain/response-events';
import type { EventSink } from '../../infra/event-log.service';
import type { UpstreamClient } from '../upstream.client';
import { UpstreamError } from '../upstream-error';
import { type CallResult, forwardedRequest, parseEventData, type Produced, type UpstreamProtocol } from './protocol';

/**
 * Responses as jobs: the stored request goes to the upstream's /responses as a stream, so a
 * background or streamed response can publish every event as it happens; its final response is
 * what is stored.
 */
@Injectable()
export class ResponseProtocol implements UpstreamProtocol<ResponseRecord> {
  constructor(private readonly history: TurnHistory) {}

  async execute(
    upstream: UpstreamClient,
    record: ResponseRecord,
    signal: AbortSignal,
    sink: EventSink | null,
    produced: Produced,
  ): Promise<Record<string, unknown>> {
    const body: JsonObject = { ...forwardedRequest(record), stream: true };
    const context = await this.history.contextOf(record);
    if (context.length > 0) body.input = [...context, ...ownInput(body.input)];
    const events = await upstream.postStream('/responses', body, signal);
    for await (const ev of events) {
      if (ev.data === '[DONE]') break;
      const { type, sequence_number: _seq, ...fields } = parseEventData(ev.data);
      void _seq;
      if (type === 'error' || ev.event === 'error') {
        const err = (fields.error ?? fields) as { message?: string; code?: string };
        throw new UpstreamError(
          err.message ?? 'The upstream reported an error mid-stream.',
          null,
          true,
          null,
          err.code ?? null,
        );
      }
      if (UPSTREAM_TERMINAL.has(type as string)) return (fields.response ?? {}) as Record<string, unknown>;
      if (UPSTREAM_LIFECYCLE.has(type as string)) continue;
      if (typeof type === 'string' && type.endsWith('.delta')) produced.outputDeltas++;
      sink?.emit(event(type as string, fields));
    }
    throw new UpstreamError('The upstream stream ended before the response finished.', null, true);
  }

  isLifecycleEvent(data: string): boolean {
    return /^\{"type":"response\.(created|queued|in_progress)"/.test(data);
  }

  startedEvents(): LogEvent[] {
    return startedEvents();
  }

  result(_record: ResponseRecord, body: Record<string, unknown>): CallResult<ResponseRecord> {
    return responseResult(body);
  }
}

/** This turn's own input as items (a string is one user message), to follow the context. */
export function ownInput(input: unknown): JsonObject[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  return Array.isArray(input) ? (input as JsonObject[]) : [];
}

/** What a finished Response body (from the upstream, or built from a chat answer) changes on the record. */
export function responseResult(body: Record<string, unknown>): CallResult<ResponseRecord> {
  const upstreamStatus = body.status as CallStatus | undefined;
  const status: CallStatus =
    upstreamStatus === 'incomplete' || upstreamStatus === 'failed' ? upstreamStatus : 'completed';
  const usage = (body.usage ?? null) as Record<string, unknown> | null;
  const failure = (body.error ?? { code: 'server_error', message: 'The model failed to generate a response.' }) as {
    code: string;
    message: string;
  };
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
    servedModel: typeof body.model === 'string' ? body.model : null,
  };
}
