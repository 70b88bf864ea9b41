import { Controller, Delete, Get, HttpCode, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { type ChatListFilters, ChatCompletionsService } from '../application/chat-completions.service';
import type { AppConfig } from '../config/app-config';
import type { Caller } from '../domain/caller';
import type { JsonObject } from '../domain/json';
import type { ItemList, ListQuery } from '../domain/list';
import type { RequestContext, Validated } from '../domain/request-context';
import {
  chatListQuerySchema,
  type CreateChatBody,
  createChatSchema,
  updateChatSchema,
} from '../domain/requests/chat.request';
import { listQuerySchema } from '../domain/requests/common';
import { APP_CONFIG } from '../config/tokens';
import { AuthGuard, CurrentCaller } from './auth.guard';
import { checkId } from './ids';
import { clientGoneSignal, ReqContext } from './request-context';
import { withPollHint } from './poll-hint';
import { sendAnswer } from './sse-writer';
import { ValidBody, ValidQuery } from './validated';

const LIST_QUERY = listQuerySchema({ order: 'asc', limit: 20, max: 100 });
const notFound = (id: string) => `Chat completion with id '${id}' not found.`;

@Controller('v1/chat/completions')
@UseGuards(AuthGuard)
export class ChatCompletionsController {
  constructor(
    private readonly chat: ChatCompletionsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @HttpCode(200)
  async create(
    @CurrentCaller() caller: Caller,
    @ValidBody(createChatSchema) body: Validated<CreateChatBody>,
    @ReqContext() ctx: RequestContext,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const answer = await this.chat.create(caller, body, ctx, clientGoneSignal(req, res));
    await sendAnswer(res, answer, this.config.sseHeartbeatMs);
  }

  @Get()
  list(
    @CurrentCaller() caller: Caller,
    @ValidQuery(chatListQuerySchema) query: { list: ListQuery; filters: ChatListFilters },
  ): Promise<ItemList> {
    return this.chat.list(caller, query.list, query.filters);
  }

  @Get(':id')
  async retrieve(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<JsonObject> {
    return withPollHint(res, await this.chat.retrieve(caller, checkId(id, notFound)), this.config.pollAfterMs);
  }

  @Post(':id')
  @HttpCode(200)
  update(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @ValidBody(updateChatSchema) body: Validated<{ metadata: Record<string, string> | null }>,
  ): Promise<JsonObject> {
    return this.chat.update(caller, checkId(id, notFound), body.value.metadata);
  }

  @Delete(':id')
  @HttpCode(200)
  delete(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<JsonObject> {
    return this.chat.delete(caller, checkId(id, notFound));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<JsonObject> {
    return this.chat.cancel(caller, checkId(id, notFound));
  }

  @Get(':id/messages')
  messages(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @ValidQuery(LIST_QUERY) query: ListQuery,
  ): Promise<ItemList> {
    return this.chat.messages(caller, checkId(id, notFound), query);
  }
}
