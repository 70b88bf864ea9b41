import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthGuard, CurrentCaller } from '../auth/auth.guard';
import type { Caller } from '../auth/api-keys.service';
import { ApiError } from '../common/api-error';
import { isPlausibleId } from '../common/ids';
import { clientGoneSignal } from '../common/request-context';
import { ReqContext, type RequestContext } from '../common/request-context';
import { type JsonObject, parseListQuery } from '../common/validation';
import type { ItemList } from '../common/list';
import { ResponsesService } from './responses.service';

/** `starting_after`: a sequence number (events after it are sent); absent means all. */
function parseStartingAfter(v: unknown): number {
  if (v === undefined || v === '') return -1;
  if (typeof v !== 'string' || !/^\d{1,9}$/.test(v)) {
    throw ApiError.badRequest("Invalid 'starting_after': expected a non-negative integer sequence number.", 'starting_after', 'invalid_value');
  }
  return Number(v);
}

@Controller('v1/responses')
@UseGuards(AuthGuard)
export class ResponsesController {
  constructor(private readonly responses: ResponsesService) {}

  @Post()
  @HttpCode(200)
  async create(
    @CurrentCaller() caller: Caller,
    @Body() body: unknown,
    @ReqContext() ctx: RequestContext,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const gone = clientGoneSignal(req, res);
    const outcome = await this.responses.create(caller, body, ctx, gone);
    if (outcome.stream) return this.responses.stream(res, outcome.record, -1, gone, true);
    if (outcome.body) res.json(outcome.body); // null: the client left and the call was cancelled
  }

  @Get(':id')
  async retrieve(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    if (query.stream === 'true') {
      const afterSeq = parseStartingAfter(query.starting_after);
      const record = await this.responses.streamable(caller, checkId(id));
      return this.responses.stream(res, record, afterSeq, clientGoneSignal(req, res), false);
    }
    // OpenAI wants the literal `true`; anything else but `false` is a mistake worth saying.
    if (query.stream !== undefined && query.stream !== 'false') {
      throw ApiError.badRequest("Invalid value for 'stream': expected 'true' or 'false'.", 'stream', 'invalid_value');
    }
    res.json(await this.responses.retrieve(caller, checkId(id)));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<JsonObject> {
    return this.responses.cancel(caller, checkId(id));
  }

  @Delete(':id')
  @HttpCode(200)
  delete(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<JsonObject> {
    return this.responses.delete(caller, checkId(id));
  }

  @Get(':id/input_items')
  inputItems(@CurrentCaller() caller: Caller, @Param('id') id: string, @Query() query: Record<string, unknown>): Promise<ItemList> {
    return this.responses.listInputItems(caller, checkId(id), parseListQuery(query, { order: 'desc', limit: 20, max: 100 }));
  }
}

/** A malformed id cannot name any response: answer exactly as for an unknown one. */
function checkId(id: string): string {
  if (!isPlausibleId(id)) throw ApiError.notFound(`Response with id '${id.slice(0, 64)}' not found.`);
  return id;
}
