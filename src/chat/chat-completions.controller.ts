import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthGuard, CurrentCaller } from '../auth/auth.guard';
import type { Caller } from '../auth/api-keys.service';
import { ApiError } from '../common/api-error';
import { isPlausibleId } from '../common/ids';
import { clientGoneSignal, ReqContext, type RequestContext } from '../common/request-context';
import { isObject, type JsonObject, parseListQuery } from '../common/validation';
import type { ItemList } from '../common/list';
import { ChatCompletionsService } from './chat-completions.service';

@Controller('v1/chat/completions')
@UseGuards(AuthGuard)
export class ChatCompletionsController {
  constructor(private readonly chat: ChatCompletionsService) {}

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
    const outcome = await this.chat.create(caller, body, ctx, gone);
    if (outcome.stream) return this.chat.stream(res, outcome.record, gone);
    if (outcome.body) res.json(outcome.body); // null: the client left and the call was cancelled
  }

  @Get()
  list(@CurrentCaller() caller: Caller, @Query() query: Record<string, unknown>): Promise<ItemList> {
    const list = parseListQuery(query, { order: 'asc', limit: 20, max: 100 });
    return this.chat.list(caller, list, { model: modelFilter(query.model), metadata: metadataFilter(query.metadata) });
  }

  @Get(':id')
  retrieve(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<JsonObject> {
    return this.chat.retrieve(caller, checkId(id));
  }

  @Post(':id')
  @HttpCode(200)
  update(@CurrentCaller() caller: Caller, @Param('id') id: string, @Body() body: unknown): Promise<JsonObject> {
    return this.chat.update(caller, checkId(id), body);
  }

  @Delete(':id')
  @HttpCode(200)
  delete(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<JsonObject> {
    return this.chat.delete(caller, checkId(id));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<JsonObject> {
    return this.chat.cancel(caller, checkId(id));
  }

  @Get(':id/messages')
  messages(@CurrentCaller() caller: Caller, @Param('id') id: string, @Query() query: Record<string, unknown>): Promise<ItemList> {
    return this.chat.messages(caller, checkId(id), parseListQuery(query, { order: 'asc', limit: 20, max: 100 }));
  }
}

function checkId(id: string): string {
  if (!isPlausibleId(id)) throw ApiError.notFound(`Chat completion with id '${id.slice(0, 64)}' not found.`);
  return id;
}

function modelFilter(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > 256) throw ApiError.badRequest("Invalid 'model': expected a model name.", 'model', 'invalid_value');
  return v;
}

/** `metadata[key]=value` pairs (the SDK's bracket encoding); all must match. */
function metadataFilter(v: unknown): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw ApiError.badRequest("Invalid 'metadata': expected metadata[key]=value pairs.", 'metadata', 'invalid_value');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    // Keys become document paths in the query, so operators and nested paths are refused, and
    // so is whitespace at either end, which FerretDB refuses in a path (a 500 otherwise).
    if (!/^[^.$\u0000]{1,64}$/.test(k) || /^[\s\u0085]|[\s\u0085]$/.test(k) || typeof val !== 'string' || val.length > 512) {
      throw ApiError.badRequest(`Invalid 'metadata[${k.slice(0, 64)}]' filter.`, 'metadata', 'invalid_value');
    }
    out[k] = val;
  }
  return out;
}
