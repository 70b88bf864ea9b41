import { Injectable } from '@nestjs/common';
import { type CallKind, type CallResult, forwardedRequest } from '../calls/call-kind';
import { unixSeconds } from '../common/ids';
import { JobName } from '../queue/jobs';
import { numberOr0 } from '../responses/response-call.kind';
import type { ChatCompletionRecord } from './chat-completion.schema';
import { ChatCompletionsRepository } from './chat-completions.repository';

/** Chat completions as jobs: POST the stored request to the upstream's /chat/completions. */
@Injectable()
export class ChatCallKind implements CallKind<ChatCompletionRecord> {
  readonly job = JobName.RunChatCompletion;
  readonly noun = 'chat completion';
  readonly upstreamPath = '/chat/completions';

  constructor(readonly repo: ChatCompletionsRepository) {}

  notFoundMessage(id: string): string {
    return `Chat completion with id '${id}' not found.`;
  }

  upstreamRequest(record: ChatCompletionRecord): Record<string, unknown> {
    return forwardedRequest(record);
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
    };
  }
}
