import type { z } from 'zod';
import { AppError, type ErrorKind } from '../errors';

/** What a refinement puts in `params` when it wants its own wording, OpenAI code or error kind. */
export interface IssueParams {
  code?: string;
  kind?: ErrorKind;
  /** When the problem lies deeper than the refined value (a path found while walking it). */
  param?: string;
}

/**
 * Validates a request against its schema. Like OpenAI, the first problem is reported, with OpenAI's wording, `param`
 * (the path, as `messages[0].role` or `metadata.key`) and `code`.
 */
export function parseRequest<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  throw issueToError(result.error.issues[0]);
}

/** `['messages', 0, 'role']` → `messages[0].role`. */
export function paramOf(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

const EXPECTED: ReadonlyMap<string, string> = new Map([
  ['string', 'a string'],
  ['number', 'a number'],
  ['int', 'an integer'],
  ['boolean', 'a boolean'],
  ['object', 'an object'],
  ['record', 'an object'],
  ['array', 'an array'],
]);

const SIZE_NOUN: ReadonlyMap<string, string> = new Map([
  ['string', 'string'],
  ['array', 'array'],
]);

/** The one mapping from a schema issue to the error a client sees. */
export function issueToError(issue: z.core.$ZodIssue): AppError {
  const param = paramOf(issue.path);
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'custom': {
      const params = (issue.params ?? {}) as IssueParams;
      return new AppError(params.kind ?? 'invalid_request', issue.message, {
        param: params.param ?? (param || null),
        code: params.code ?? null,
      });
    }
    case 'invalid_type':
      if (param === '') return AppError.badRequest('The request body must be a JSON object.', null, 'invalid_json');
      if (input === undefined || input === null) return AppError.missingParam(param);
      return AppError.invalidType(param, EXPECTED.get(issue.expected) ?? issue.expected, input);
    case 'invalid_union':
      return unionError(issue, param, input);
    case 'invalid_value':
      return AppError.badRequest(
        `Invalid value for '${param}': expected one of ${issue.values.map(String).join(', ')}.`,
        param,
        'invalid_value',
      );
    case 'too_big':
    case 'too_small':
      return sizeError(issue, param, input);
    case 'unrecognized_keys': {
      const key = paramOf([...issue.path, issue.keys[0]]);
      return AppError.badRequest(`Unknown parameter: '${key}'.`, key, 'unknown_parameter');
    }
    default:
      return AppError.badRequest(`Invalid '${param}': ${issue.message}.`, param || null, 'invalid_value');
  }
}

/**
 * A value that matched none of a union's shapes. When it had the outer type of one (an array, say) the deepest
 * problem inside that shape is the one to report (`input[3]`); otherwise the union's own wording says what it takes.
 */
function unionError(issue: z.core.$ZodIssueInvalidUnion, param: string, input: unknown): AppError {
  let deepest: z.core.$ZodIssue | null = null;
  for (const branch of issue.errors) {
    const first = branch[0];
    if (first && first.path.length > 0 && (!deepest || first.path.length > deepest.path.length)) deepest = first;
  }
  if (deepest) return issueToError({ ...deepest, path: [...issue.path, ...deepest.path] });
  if (input === undefined || input === null) return AppError.missingParam(param);
  return AppError.invalidType(param, issue.message, input);
}

function sizeError(issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall, param: string, input: unknown): AppError {
  const big = issue.code === 'too_big';
  const limit = Number(big ? (issue as z.core.$ZodIssueTooBig).maximum : (issue as z.core.$ZodIssueTooSmall).minimum);
  const noun = SIZE_NOUN.get(issue.origin);
  if (noun) {
    const length = typeof input === 'string' || Array.isArray(input) ? input.length : 0;
    if (!big && length === 0) {
      const what = noun === 'string' ? 'an empty string' : 'an empty array';
      return AppError.badRequest(
        `Invalid '${param}': empty ${noun}. Expected ${noun === 'string' ? 'a string' : 'an array'} with minimum length ${limit}, but got ${what} instead.`,
        param,
        `empty_${noun}`,
      );
    }
    const article = noun === 'array' ? 'an' : 'a';
    return AppError.badRequest(
      `Invalid '${param}': ${noun} too ${big ? 'long' : 'short'}. Expected ${article} ${noun} with ${big ? 'maximum' : 'minimum'} length ${limit}, but got ${article} ${noun} with length ${length} instead.`,
      param,
      `${noun}_${big ? 'above_max' : 'below_min'}_length`,
    );
  }
  return AppError.badRequest(
    `Invalid '${param}': ${big ? 'above maximum' : 'below minimum'} value. Expected a value ${big ? 'less' : 'greater'} than or equal to ${limit}, but got ${String(input)} instead.`,
    param,
    `integer_${big ? 'above_max' : 'below_min'}_value`,
  );
}
