import { Injectable } from '@nestjs/common';
import type { ChatCompletionRecord } from '../../domain/call';
import type { LogEvent } from '../../domain/events';
import { unixSeconds } from '../../domain/ids';
import { numberOr0 } from '../../domain/json';
import type { EventSink } from '../../infra/event-log.service';
import type { UpstreamClient } from '../upstream.client';
import { UpstreamError } from '../upstream-error';
import { ChatAccumulator } from './chat-accumulator';
import { type CallResult, forwardedRequest, parseEventData, type Produced, type UpstreamProtocol } from './protocol';

/**
 * Chat completions as jobs: the stored request goes to the upstream's /chat/completions, as a
 * stream when the client asked for one (its chunks are republished under our id), else as JSON.
 */
@Injectable()
export class ChatProtocol implements UpstreamProtocol<ChatCompletionRecord> {
  async execute(
    upstream: UpstreamClient,
    record: ChatCompletionRecord,
    signal: AbortSignal,
    sink: EventSink | null,
    produced: Produced,
  ): Promise<Record<string, unknown>> {
    const request = record.commonData.requestRawData;
    if (request.stream !== true)
      return (await upstream.postJson('/chat/completions', forwardedRequest(record), signal)).body;

    const options = (request.stream_options ?? {}) as Record<string, unknown>;
    const wantsUsage = options.include_usage === true;
    // Usage is always asked for, to record it; the usage chunk reaches clients only if they asked.
    const body = { ...forwardedRequest(record), stream: true, stream_options: { ...options, include_usage: true } };
    const acc = new ChatAccumulator();
    const ours = { id: record.responseId, created: unixSeconds(record.createdAt) };
    for await (const ev of await upstream.postStream('/chat/completions', body, signal)) {
      if (ev.data === '[DONE]') return acc.completion();
      const chunk = parseEventData(ev.data);
      if (chunk.error) {
        const err = chunk.error as { message?: string; code?: string };
        throw new UpstreamError(
          err.message ?? 'The upstream reported an error mid-stream.',
          null,
          true,
          null,
          err.code ?? null,
        );
      }
      acc.add(chunk);
      countOutput(chunk, produced);
      const usageOnly = Array.isArray(chunk.choices) && chunk.choices.length === 0 && chunk.usage;
      if (usageOnly && !wantsUsage) continue;
      sink?.emit({ data: JSON.stringify({ ...chunk, ...ours }) });
    }
    throw new UpstreamError('The upstream stream ended before [DONE].', null, true);
  }

  /** Chat streams have no lifecycle events: every chunk is output. */
  isLifecycleEvent(): boolean {
    return false;
  }

  startedEvents(): LogEvent[] {
    return [];
  }

  result(record: ChatCompletionRecord, body: Record<string, unknown>): CallResult<ChatCompletionRecord> {
    const usage = (body.usage ?? null) as Record<string, unknown> | null;
    // What we serve and store: the upstream's completion under our own id and timestamp.
    const stored: Record<string, unknown> = {
      id: record.responseId,
      object: 'chat.completion',
      created: unixSeconds(record.createdAt),
      model: typeof body.model === 'string' ? body.model : record.model,
      choices: Array.isArray(body.choices) ? body.choices : [],
      usage,
      service_tier: body.service_tier ?? null,
      system_fingerprint: body.system_fingerprint ?? null,
    };
    return {
      changes: { status: 'completed', completedAt: new Date(), 'commonData.openAIStoredBody': stored },
      tokens: { input: numberOr0(usage?.prompt_tokens), output: numberOr0(usage?.completion_tokens) },
      servedModel: typeof body.model === 'string' ? body.model : null,
    };
  }
}

/** A chunk's output (content, refusal or tool-call argument deltas) and the upstream's usage when it sends it. */
function countOutput(chunk: Record<string, unknown>, produced: Produced): void {
  for (const choice of (Array.isArray(chunk.choices) ? chunk.choices : []) as Record<string, unknown>[]) {
    const delta = (choice.delta ?? {}) as Record<string, unknown>;
    const hasText = (typeof delta.content === 'string' && delta.content !== '') || typeof delta.refusal === 'string';
    if (hasText || Array.isArray(delta.tool_calls)) produced.outputDeltas++;
  }
  const usage = chunk.usage as Record<string, unknown> | undefined;
  if (usage) produced.usage = { input: numberOr0(usage.prompt_tokens), output: numberOr0(usage.completion_tokens) };
}
