import { Catch, Controller, HttpCode, Post, UseFilters, UseGuards } from '@nestjs/common';
import { type OhMyGptListForm, OhMyGptStoreService } from '../application/ohmygpt-store.service';
import type { Caller } from '../domain/caller';
import type { JsonObject } from '../domain/json';
import type { Validated } from '../domain/request-context';
import { ohMyGptFormSchema, ohMyGptListSchema, ohMyGptRecordSchema } from '../domain/requests/ohmygpt.request';
import { parseRequest } from '../domain/requests/parse';
import { ApiExceptionFilter, errorEnvelope, OHMYGPT_PATH_PREFIX } from './api-exception.filter';
import { AuthGuard, CurrentCaller } from './auth.guard';
import { ValidBody } from './validated';
import type { AppError } from '../domain/errors';

/** OhMyGPT's envelope for this family: `{statusCode, message, data}`, errors included. */
@Catch()
export class OhMyGptExceptionFilter extends ApiExceptionFilter {
  protected override body(err: AppError): unknown {
    return errorEnvelope(err, OHMYGPT_PATH_PREFIX);
  }
}

/**
 * OhMyGPT's "Store" endpoints for stored chat completions, POST with form-urlencoded or JSON bodies:
 * list-completions-data, get-completion-data, delete-completion-data.
 */
@Controller('api/v1/ai/openai/v1/chat')
@UseGuards(AuthGuard)
@UseFilters(OhMyGptExceptionFilter)
export class OhMyGptStoreController {
  constructor(private readonly store: OhMyGptStoreService) {}

  @Post('list-completions-data')
  @HttpCode(200)
  async list(
    @CurrentCaller() caller: Caller,
    @ValidBody(ohMyGptFormSchema) form: Validated<JsonObject>,
  ): Promise<JsonObject> {
    const query: OhMyGptListForm = parseRequest(ohMyGptListSchema, form.value);
    return { statusCode: 200, message: 'Query Success', data: await this.store.list(caller, query) };
  }

  @Post('get-completion-data')
  @HttpCode(200)
  async get(
    @CurrentCaller() caller: Caller,
    @ValidBody(ohMyGptFormSchema) form: Validated<JsonObject>,
  ): Promise<JsonObject> {
    const { responseId } = parseRequest(ohMyGptRecordSchema, form.value);
    return { statusCode: 200, message: 'Query Success', data: await this.store.get(caller, responseId!) };
  }

  @Post('delete-completion-data')
  @HttpCode(200)
  async delete(
    @CurrentCaller() caller: Caller,
    @ValidBody(ohMyGptFormSchema) form: Validated<JsonObject>,
  ): Promise<JsonObject> {
    const { responseId } = parseRequest(ohMyGptRecordSchema, form.value);
    return { statusCode: 200, message: 'Delete Success', data: await this.store.delete(caller, responseId!) };
  }
}
