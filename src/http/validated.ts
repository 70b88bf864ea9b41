import { Body, type PipeTransform, Query } from '@nestjs/common';
import type { z } from 'zod';
import type { Validated } from '../domain/request-context';
import { parseRequest } from '../domain/requests/parse';

/** Validates a request part against its schema: a 400 in OpenAI's wording, or the parsed value. */
class SchemaPipe implements PipeTransform {
  constructor(
    private readonly schema: z.ZodType,
    private readonly keepRaw: boolean,
  ) {}

  transform(input: unknown): unknown {
    const value = parseRequest(this.schema, input);
    return this.keepRaw ? ({ value, raw: input as Record<string, unknown> } satisfies Validated<unknown>) : value;
  }
}

/** The request body validated by `schema`, with the body as it arrived (kept and forwarded untouched). */
export const ValidBody = (schema: z.ZodType): ParameterDecorator => Body(new SchemaPipe(schema, true));

/** The query string validated by `schema`. */
export const ValidQuery = (schema: z.ZodType): ParameterDecorator => Query(new SchemaPipe(schema, false));
