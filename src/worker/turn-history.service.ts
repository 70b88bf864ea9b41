import { Injectable } from '@nestjs/common';
import { keyOf, type ResponseRecord } from '../domain/call';
import { asConversationItems, asReplayInput } from '../domain/conversation';
import type { JsonObject } from '../domain/json';
import { ConversationsRepository } from '../persistence/conversations.repository';
import { ResponsesRepository } from '../persistence/responses.repository';

const replayable = (items: JsonObject[]): JsonObject[] =>
  items.flatMap((i) => {
    const replay = asReplayInput(i);
    return replay ? [replay] : [];
  });

/**
 * A turn's place in a conversation or a chain of responses, from the worker's side: the context the upstream gets
 * before the turn's own input, and the turn's items added to its conversation once it finished.
 */
@Injectable()
export class TurnHistory {
  constructor(
    private readonly responses: ResponsesRepository,
    private readonly conversations: ConversationsRepository,
  ) {}

  /**
   * What the model sees before this turn's input: every earlier response's input and output items, oldest first
   * (`previous_response_id`; one query for the whole chain), or the conversation's items as they are now. The
   * instructions of earlier turns are not carried over, as with OpenAI.
   */
  async contextOf(record: ResponseRecord): Promise<JsonObject[]> {
    if (record.chain.length > 0) {
      const turns = await this.responses.findChain(record.userId, record.chain);
      return turns.flatMap((t) => [...replayable(t.inputItems), ...replayable(t.output)]);
    }
    if (record.conversationId) {
      return replayable(
        await this.conversations.allItems({ userId: record.userId, conversationId: record.conversationId }),
      );
    }
    return [];
  }

  /**
   * Adds a finished turn's input items, then its output items, to its conversation, as one block at its end. Marked
   * on the response afterwards, so a turn whose worker stopped in between is added later by the recovery sweep (the
   * conversation skips items it already has).
   */
  async recordTurn(record: ResponseRecord & { conversationId: string }): Promise<void> {
    const items = asConversationItems([...record.inputItems, ...record.output]);
    await this.conversations.append(
      { userId: record.userId, conversationId: record.conversationId },
      items,
      record.responseId,
    );
    await this.responses.update(keyOf(record), { conversationAppendedAt: new Date() });
  }
}
