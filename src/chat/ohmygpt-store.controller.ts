import { Body, Catch, Controller, HttpCode, Post, UseFilters, UseGuards } from '@nestjs/common';
import { AuthGuard, CurrentCaller } from '../auth/auth.guard';
import type { Caller } from '../auth/api-keys.service';
import { ApiError } from '../common/api-error';
import { ApiExceptionFilter } from '../common/api-exception.filter';
import { isObject, type JsonObject } from '../common/validation';
import { OhMyGptStoreService } from './ohmygpt-store.service';

/** OhMyGPT's envelope for this family: `{statusCode, message, data}`, errors included. */
@Catch()
export class OhMyGptExceptionFilter extends ApiExceptionFilter {
  protected override body(err: ApiError, _path: string): unknown {
    return { statusCode: err.status, message: err.message, data: null };
  }
}

/**
 * OhMyGPT's "Store" endpoints for stored chat completions, POST with form-urlencoded or JSON
 * bodies: list-completions-data, get-completion-data, delete-completion-data.
 */
@Controller('api/v1/ai/openai/v1/chat')
@UseGuards(AuthGuard)
@UseFilters(OhMyGptExceptionFilter)
export class OhMyGptStoreController {
  constructor(private readonly store: OhMyGptStoreService) {}

  @Post('list-completions-data')
  @HttpCode(200)
  async list(@CurrentCaller() caller: Caller, @Body() body: unknown): Promise<JsonObject> {
    return { statusCode: 200, message: 'Query Success', data: await this.store.list(caller, formOf(body)) };
  }

  @Post('get-completion-data')
  @HttpCode(200)
  async get(@CurrentCaller() caller: Caller, @Body() body: unknown): Promise<JsonObject> {
    return { statusCode: 200, message: 'Query Success', data: await this.store.get(caller, formOf(body)) };
  }

  @Post('delete-completion-data')
  @HttpCode(200)
  async delete(@CurrentCaller() caller: Caller, @Body() body: unknown): Promise<JsonObject> {
    return { statusCode: 200, message: 'Delete Success', data: await this.store.delete(caller, formOf(body)) };
  }
}

function formOf(body: unknown): JsonObject {
  if (body === undefined || body === null) return {};
  if (!isObject(body)) throw ApiError.badRequest('The request body must be form fields or a JSON object.');
  return body;
}
