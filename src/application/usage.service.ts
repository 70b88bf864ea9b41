import { Injectable } from '@nestjs/common';
import type { Caller } from '../domain/caller';
import { type UsageSummary, usageSummary } from '../domain/usage';
import { ChatCompletionsRepository } from '../persistence/chat-completions.repository';
import { ResponsesRepository } from '../persistence/responses.repository';

/** A caller's finished calls (responses and chat) summed by UTC day and model. */
@Injectable()
export class UsageService {
  constructor(
    private readonly responses: ResponsesRepository,
    private readonly chat: ChatCompletionsRepository,
  ) {}

  async summary(caller: Caller, from: string, to: string): Promise<UsageSummary> {
    const [responses, chat] = await Promise.all([
      this.responses.usageByDay(caller.userId, from, to),
      this.chat.usageByDay(caller.userId, from, to),
    ]);
    return usageSummary([...responses, ...chat], from, to);
  }
}
