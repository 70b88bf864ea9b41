/**
 * The one error vocabulary of the HTTP API. The exception filter turns these into OpenAI's
 * envelope `{error:{message,type,param,code}}`; anything else becomes a 500 with a request id.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static badRequest(message: string, param: string | null = null, code: string | null = null): ApiError {
    return new ApiError(400, message, 'invalid_request_error', param, code);
  }

  static missingParam(param: string): ApiError {
    return ApiError.badRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
  }

  static invalidType(param: string, expected: string, got: unknown): ApiError {
    return ApiError.badRequest(
      `Invalid type for '${param}': expected ${expected}, but got ${describeType(got)} instead.`,
      param,
      'invalid_type',
    );
  }

  static notFound(message: string, param: string | null = null): ApiError {
    return new ApiError(404, message, 'invalid_request_error', param, null);
  }

  static unauthorized(message: string, code: string | null = null): ApiError {
    return new ApiError(401, message, 'invalid_request_error', null, code);
  }

  /** Redis or MongoDB is unreachable: fail fast, and let the client retry. */
  static unavailable(message = 'The service is temporarily unavailable. Please retry shortly.'): ApiError {
    return new ApiError(503, message, 'server_error', null, 'service_unavailable');
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
