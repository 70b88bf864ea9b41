import { Injectable } from '@nestjs/common';
import { ACTIVE_STATUSES, type TurnPlace } from '../domain/call';
import type { Caller } from '../domain/caller';
import { AppError } from '../domain/errors';
import { ConversationsRepository } from '../persistence/conversations.repository';
import { ResponsesRepository } from '../persistence/responses.repository';

/**
 * Resolves `previous_response_id` and `conversation` when a turn is created, owner-scoped and before anything is
 * enqueued: the upstream never sees our ids, the worker builds the context from our records. One read whatever the
 * chain's length: each response keeps the ids of every one before it.
 */
@Injectable()
export class TurnContext {
  constructor(
    private readonly responses: ResponsesRepository,
    private readonly conversations: ConversationsRepository,
  ) {}

  async resolve(
    caller: Caller,
    req: { previousResponseId: string | null; conversationId: string | null },
  ): Promise<TurnPlace> {
    if (req.previousResponseId) {
      const id = req.previousResponseId;
      const previous = await this.responses.find({ userId: caller.userId, responseId: id });
      // Another user's response, an unknown one and one that was not stored look the same.
      if (!previous || !previous.store) {
        throw AppError.badRequest(
          `Previous response with id '${id}' not found.`,
          'previous_response_id',
          'previous_response_not_found',
        );
      }
      if (ACTIVE_STATUSES.includes(previous.status)) {
        const message = `Previous response with id '${id}' has not finished yet (it is ${previous.status}); continue it once it has.`;
        throw AppError.badRequest(message, 'previous_response_id', 'previous_response_not_finished');
      }
      return { previousResponseId: id, chain: [...previous.chain, id], conversationId: null };
    }
    if (req.conversationId) {
      const id = req.conversationId;
      if (!(await this.conversations.find({ userId: caller.userId, conversationId: id }))) {
        throw AppError.notFound(`Conversation with id '${id}' not found.`, 'conversation');
      }
      return { previousResponseId: null, chain: [], conversationId: id };
    }
    return { previousResponseId: null, chain: [], conversationId: null };
  }
}
