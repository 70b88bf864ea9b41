/**
 * The one error vocabulary. Services throw an AppError of a kind (what went wrong, as a client sees it) with
 * OpenAI's `param` and `code`; the HTTP edge maps the kind to a status and to the route family's envelope. Nothing
 * here knows about HTTP, so the worker and the CLI use the same errors.
 */
export type ErrorKind =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'unsupported_media'
  | 'rate_limited'
  | 'upstream_failed'
  | 'internal'
  | 'unavailable'
  | 'timeout';

export interface ErrorDetails {
  param?: string | null;
  code?: string | null;
  /** OpenAI's `type` when it is not the kind's usual one (e.g. `requests` for rate limits). */
  type?: string;
  /** Seconds a client should wait before trying again. */
  retryAfterS?: number;
  /** False when a client's automatic retry would be wrong (the call already ran, or was cancelled). */
  retryable?: boolean;
  /** A status other than the kind's usual one: an upstream failure relayed as is, or a body parser's own. */
  status?: number;
}

export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  get param(): string | null {
    return this.details.param ?? null;
  }

  get code(): string | null {
    return this.details.code ?? null;
  }

  static badRequest(message: string, param: string | null = null, code: string | null = null): AppError {
    return new AppError('invalid_request', message, { param, code });
  }

  static missingParam(param: string): AppError {
    return AppError.badRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
  }

  static invalidType(param: string, expected: string, got: unknown): AppError {
    const message = `Invalid type for '${param}': expected ${expected}, but got ${describeType(got)} instead.`;
    return AppError.badRequest(message, param, 'invalid_type');
  }

  static notFound(message: string, param: string | null = null, code: string | null = null): AppError {
    return new AppError('not_found', message, { param, code });
  }

  static unauthorized(message: string, code: string | null = null): AppError {
    return new AppError('unauthorized', message, { code });
  }

  /** Redis or MongoDB is unreachable: fail fast, and let the client retry. */
  static unavailable(message = 'The service is temporarily unavailable. Please retry shortly.'): AppError {
    return new AppError('unavailable', message, { code: 'service_unavailable' });
  }

  static tooLarge(message: string): AppError {
    return new AppError('too_large', message, { code: 'request_too_large' });
  }
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value;
}
