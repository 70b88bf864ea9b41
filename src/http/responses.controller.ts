import { Controller, Delete, Get, HttpCode, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ResponsesService } from '../application/responses.service';
import type { AppConfig } from '../config/app-config';
import type { Caller } from '../domain/caller';
import type { JsonObject } from '../domain/json';
import type { ItemList, ListQuery } from '../domain/list';
import type { RequestContext, Validated } from '../domain/request-context';
import { listQuerySchema } from '../domain/requests/common';
import {
  type CreateResponseBody,
  createResponseSchema,
  retrieveQuerySchema,
} from '../domain/requests/responses.request';
import { APP_CONFIG } from '../config/tokens';
import { AuthGuard, CurrentCaller } from './auth.guard';
import { checkId } from './ids';
import { clientGoneSignal, ReqContext } from './request-context';
import { withPollHint } from './poll-hint';
import { sendAnswer } from './sse-writer';
import { ValidBody, ValidQuery } from './validated';

const INPUT_ITEMS_QUERY = listQuerySchema({ order: 'desc', limit: 20, max: 100 });
const notFound = (id: string) => `Response with id '${id}' not found.`;

@Controller('v1/responses')
@UseGuards(AuthGuard)
export class ResponsesController {
  constructor(
    private readonly responses: ResponsesService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @HttpCode(200)
  async create(
    @CurrentCaller() caller: Caller,
    @ValidBody(createResponseSchema) body: Validated<CreateResponseBody>,
    @ReqContext() ctx: RequestContext,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const answer = await this.responses.create(caller, body, ctx, clientGoneSignal(req, res));
    await sendAnswer(res, answer, this.config.sseHeartbeatMs);
  }

  @Get(':id')
  async retrieve(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @ValidQuery(retrieveQuerySchema) query: { stream: boolean; afterSeq: number },
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const responseId = checkId(id, notFound);
    if (!query.stream) {
      return void res.json(
        withPollHint(res, await this.responses.retrieve(caller, responseId), this.config.pollAfterMs),
      );
    }
    const answer = await this.responses.stream(caller, responseId, query.afterSeq, clientGoneSignal(req, res));
    await sendAnswer(res, answer, this.config.sseHeartbeatMs);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<JsonObject> {
    return this.responses.cancel(caller, checkId(id, notFound));
  }

  @Delete(':id')
  @HttpCode(200)
  delete(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<JsonObject> {
    return this.responses.delete(caller, checkId(id, notFound));
  }

  @Get(':id/input_items')
  inputItems(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @ValidQuery(INPUT_ITEMS_QUERY) query: ListQuery,
  ): Promise<ItemList> {
    return this.responses.listInputItems(caller, checkId(id, notFound), query);
  }
}
