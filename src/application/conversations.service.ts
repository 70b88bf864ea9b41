import { Injectable } from '@nestjs/common';
import type { Caller } from '../domain/caller';
import { asConversationItems, conversationDeleted, toConversation } from '../domain/conversation';
import { AppError } from '../domain/errors';
import { newId } from '../domain/ids';
import { toInputItems } from '../domain/input-items';
import type { JsonObject } from '../domain/json';
import { type ItemList, type ListQuery, listOf } from '../domain/list';
import { ConversationsRepository } from '../persistence/conversations.repository';

const notFound = (id: string) => AppError.notFound(`Conversation with id '${id}' not found.`);

/** The Conversations API: create, retrieve, update, delete, and the items of a conversation. */
@Injectable()
export class ConversationsService {
  constructor(private readonly repo: ConversationsRepository) {}

  async create(caller: Caller, metadata: Record<string, string> | null, items: JsonObject[]): Promise<JsonObject> {
    const key = { userId: caller.userId, conversationId: newId('conv_') };
    return toConversation(await this.repo.create(key, metadata, asConversationItems(toInputItems(items))));
  }

  async retrieve(caller: Caller, id: string): Promise<JsonObject> {
    return toConversation(await this.existing(caller, id));
  }

  async update(caller: Caller, id: string, metadata: Record<string, string> | null): Promise<JsonObject> {
    const updated = await this.repo.updateMetadata(this.key(caller, id), metadata);
    if (!updated) throw notFound(id);
    return toConversation(updated);
  }

  /** Deletes the conversation and its items; the responses made in it stay. */
  async delete(caller: Caller, id: string): Promise<JsonObject> {
    if (!(await this.repo.delete(this.key(caller, id)))) throw notFound(id);
    return conversationDeleted(id);
  }

  async addItems(caller: Caller, id: string, items: JsonObject[]): Promise<ItemList> {
    const added = await this.repo.append(this.key(caller, id), asConversationItems(toInputItems(items)), null);
    if (!added) throw notFound(id);
    return listOf(
      added.map((d) => d.item),
      false,
    );
  }

  async listItems(caller: Caller, id: string, query: ListQuery): Promise<ItemList> {
    await this.existing(caller, id);
    const page = await this.repo.page(this.key(caller, id), query);
    if (!page) throw AppError.badRequest(`No item with id '${query.after}' in conversation '${id}'.`, 'after');
    return listOf(page.items, page.hasMore);
  }

  async getItem(caller: Caller, id: string, itemId: string): Promise<JsonObject> {
    await this.existing(caller, id);
    const item = await this.repo.findItem(this.key(caller, id), itemId);
    if (!item) throw AppError.notFound(`Item with id '${itemId}' not found in conversation '${id}'.`);
    return item;
  }

  /** Deletes one item; answers the conversation, as OpenAI does. */
  async deleteItem(caller: Caller, id: string, itemId: string): Promise<JsonObject> {
    const conversation = await this.existing(caller, id);
    if (!(await this.repo.deleteItem(this.key(caller, id), itemId))) {
      throw AppError.notFound(`Item with id '${itemId}' not found in conversation '${id}'.`);
    }
    return toConversation(conversation);
  }

  private key(caller: Caller, conversationId: string) {
    return { userId: caller.userId, conversationId };
  }

  private async existing(caller: Caller, id: string) {
    const conversation = await this.repo.find(this.key(caller, id));
    if (!conversation) throw notFound(id);
    return conversation;
  }
}
