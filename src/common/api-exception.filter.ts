import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
import { isOutage } from '../infra/outage';
import { LOGGER } from '../infra/tokens';
import { ApiError } from './api-error';
import type { Logger } from './logger';
import { newRequestId } from './ids';

/**
 * MongoDB (and FerretDB) refusing a document built from the request: a field name or value it
 * cannot store (BadValue, DollarPrefixedFieldName, DottedFieldName) or a document too large.
 * The client sent it, so the answer is a 4xx, not a 500; nothing was written.
 */
const STORE_REFUSED_CODES = new Set([2, 52, 57]);
const STORE_TOO_LARGE_CODES = new Set([10334, 17419, 17420]);

function fromStoreRefusal(err: unknown): ApiError | null {
  const e = err as { name?: string; code?: unknown };
  if (!e || typeof e !== 'object') return null;
  if (e.name === 'BSONError' || (e.name === 'MongoServerError' && typeof e.code === 'number' && STORE_REFUSED_CODES.has(e.code))) {
    return ApiError.badRequest('The request contains a field name or value that cannot be stored (for example a key starting with "$" or containing ".", or arrays nested in arrays).', null, 'invalid_value');
  }
  if (e.name === 'MongoServerError' && typeof e.code === 'number' && STORE_TOO_LARGE_CODES.has(e.code)) {
    return new ApiError(413, 'The request is too large to be stored.', 'invalid_request_error', null, 'request_too_large');
  }
  return null;
}

/** The OhMyGPT-compatible routes answer every error in OhMyGPT's envelope, unknown routes and unparsable bodies included. */
export const OHMYGPT_PATH_PREFIX = '/api/v1/ai/';

/** The error body for a path: OhMyGPT's `{statusCode, message, data: null}` under its prefix, else OpenAI's envelope. */
export function errorEnvelope(err: ApiError, path: string): unknown {
  if (path.startsWith(OHMYGPT_PATH_PREFIX)) return { statusCode: err.status, message: err.message, data: null };
  return { error: { message: err.message, type: err.type, param: err.param, code: err.code } };
}


/** The one mapping point from any thrown value to OpenAI's error envelope. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) protected readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request & { requestId?: string }>();
    const res = ctx.getResponse<Response>();
    const requestId = req.requestId ?? (res.getHeader('x-request-id') as string | undefined) ?? newRequestId();
    const err = this.toApiError(exception, req, requestId);
    if (res.headersSent) {
      res.end();
      return;
    }
    res.setHeader('x-request-id', requestId);
    for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
    res.status(err.status).json(this.body(err, req.path ?? ''));
  }

  /** The envelope for the path (errors raised before routing, such as body parsing, come here too); families override only this. */
  protected body(err: ApiError, path: string): unknown {
    return errorEnvelope(err, path);
  }

  private toApiError(exception: unknown, req: Request, requestId: string): ApiError {
    if (exception instanceof ApiError) return exception;
    if (exception instanceof HttpException) return fromHttpException(exception, req);
    const bodyError = fromBodyParserError(exception);
    if (bodyError) return bodyError;
    const refused = fromStoreRefusal(exception);
    if (refused) {
      this.logger.warn({ requestId, err: (exception as Error).message?.slice(0, 300) }, 'store refused the request content');
      return refused;
    }
    if (isOutage(exception)) {
      this.logger.warn({ requestId, err: (exception as Error).message }, 'store unavailable');
      return ApiError.unavailable();
    }
    this.logger.error({ requestId, err: exception }, 'unhandled error');
    return new ApiError(
      500,
      `The server had an error while processing your request. Sorry about that! (Please include the request ID ${requestId} if you report it.)`,
      'server_error',
    );
  }
}

function fromHttpException(e: HttpException, req: Request): ApiError {
  const status = e.getStatus();
  if (status === 404) return ApiError.notFound(`Invalid URL (${req.method} ${req.path})`);
  const cause = (e as { cause?: unknown }).cause;
  const parsed = fromBodyParserError(cause);
  if (parsed) return parsed;
  if (status === 413) return new ApiError(413, 'The request body is too large.', 'invalid_request_error', null, 'request_too_large');
  // Nest turns body-parser's SyntaxError into a bare BadRequestException carrying its message.
  if (status === 400 && /JSON|Unexpected token|Unexpected end/.test(e.message)) return fromBodyParserError({ type: 'entity.parse.failed' })!;
  if (status === 400) return ApiError.badRequest(e.message);
  return new ApiError(status, e.message, status >= 500 ? 'server_error' : 'invalid_request_error');
}

/** body-parser errors carry a `type`; turn them into clear 4xx answers. */
function fromBodyParserError(e: unknown): ApiError | null {
  const t = (e as { type?: unknown })?.type;
  if (t === 'entity.parse.failed') {
    return ApiError.badRequest(
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
      null,
      'invalid_json',
    );
  }
  if (t === 'entity.too.large') return new ApiError(413, 'The request body is too large.', 'invalid_request_error', null, 'request_too_large');
  if (t === 'encoding.unsupported' || t === 'charset.unsupported') return new ApiError(415, 'Unsupported request body encoding.', 'invalid_request_error');
  // Any other client error of body-parser or raw-body (too many form fields, form nesting too
  // deep, a corrupt gzip body, an aborted upload...): http-errors marks them `expose`.
  const { expose, status, message } = (e ?? {}) as { expose?: unknown; status?: unknown; message?: unknown };
  if (expose === true && typeof status === 'number' && status >= 400 && status < 500) {
    return new ApiError(status, `Could not read the request body: ${typeof message === 'string' ? message : 'invalid body'}.`, 'invalid_request_error');
  }
  return null;
}
