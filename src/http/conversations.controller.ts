import { Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ConversationsService } from '../application/conversations.service';
import type { Caller } from '../domain/caller';
import type { JsonObject } from '../domain/json';
import type { ItemList, ListQuery } from '../domain/list';
import type { Validated } from '../domain/request-context';
import {
  addItemsSchema,
  conversationItemsQuerySchema,
  createConversationSchema,
  updateConversationSchema,
} from '../domain/requests/conversations.request';
import { AuthGuard, CurrentCaller } from './auth.guard';
import { checkId } from './ids';
import { ValidBody, ValidQuery } from './validated';

const notFound = (id: string) => `Conversation with id '${id}' not found.`;
const itemNotFound = (id: string) => `Item with id '${id}' not found.`;
type Metadata = { metadata: Record<string, string> | null };

@Controller('v1/conversations')
@UseGuards(AuthGuard)
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Post()
  @HttpCode(200)
  create(
    @CurrentCaller() caller: Caller,
    @ValidBody(createConversationSchema) body: Validated<Metadata & { items?: JsonObject[] | null }>,
  ): Promise<JsonObject> {
    return this.conversations.create(caller, body.value.metadata, body.value.items ?? []);
  }

  @Get(':id')
  retrieve(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<JsonObject> {
    return this.conversations.retrieve(caller, checkId(id, notFound));
  }

  @Post(':id')
  @HttpCode(200)
  update(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @ValidBody(updateConversationSchema) body: Validated<Metadata>,
  ): Promise<JsonObject> {
    return this.conversations.update(caller, checkId(id, notFound), body.value.metadata);
  }

  @Delete(':id')
  @HttpCode(200)
  delete(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<JsonObject> {
    return this.conversations.delete(caller, checkId(id, notFound));
  }

  @Post(':id/items')
  @HttpCode(200)
  addItems(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @ValidBody(addItemsSchema) body: Validated<{ items: JsonObject[] }>,
  ): Promise<ItemList> {
    return this.conversations.addItems(caller, checkId(id, notFound), body.value.items);
  }

  @Get(':id/items')
  listItems(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @ValidQuery(conversationItemsQuerySchema) query: ListQuery,
  ): Promise<ItemList> {
    return this.conversations.listItems(caller, checkId(id, notFound), query);
  }

  @Get(':id/items/:itemId')
  getItem(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @Param('itemId') itemId: string,
  ): Promise<JsonObject> {
    return this.conversations.getItem(caller, checkId(id, notFound), checkId(itemId, itemNotFound));
  }

  @Delete(':id/items/:itemId')
  @HttpCode(200)
  deleteItem(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @Param('itemId') itemId: string,
  ): Promise<JsonObject> {
    return this.conversations.deleteItem(caller, checkId(id, notFound), checkId(itemId, itemNotFound));
  }
}
