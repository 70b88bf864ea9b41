import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthGuard, CurrentCaller } from '../auth/auth.guard';
import type { Caller } from '../auth/api-keys.service';
import { ApiError } from '../common/api-error';
import { isPlausibleId } from '../common/ids';
import { clientGoneSignal } from '../common/request-context';
import { ReqContext, type RequestContext } from '../common/request-context';
import { type JsonObject, parseListQuery } from '../common/validation';
import { type ItemList, ResponsesService } from './responses.service';

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
    @Res({ passthrough: true }) res: Response,
  ): Promise<JsonObject | undefined> {
    const result = await this.responses.create(caller, body, ctx, clientGoneSignal(req, res));
    return result ?? undefined;
  }

  @Get(':id')
  async retrieve(@CurrentCaller() caller: Caller, @Param('id') id: string, @Query() query: Record<string, unknown>): Promise<JsonObject> {
    if (query.stream === 'true') {
      throw ApiError.badRequest('Streaming a stored response (`stream=true`) is not supported by this server yet.', 'stream');
    }
    return this.responses.retrieve(caller, checkId(id));
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
