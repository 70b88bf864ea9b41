import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
import { LOGGER } from '../infra/tokens';
import { ApiError } from './api-error';
import type { Logger } from './logger';
import { newRequestId } from './ids';

/** Error names of the Redis and MongoDB drivers that mean "the store is unreachable". */
const OUTAGE_NAMES = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MaxRetriesPerRequestError',
]);

export function isOutage(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: string };
  if (!e || typeof e !== 'object') return false;
  if (e.name && OUTAGE_NAMES.has(e.name)) return true;
  const msg = e.message ?? '';
  return /Connection is closed|Stream isn't writeable|ECONNREFUSED|buffering timed out/i.test(msg);
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
    res.status(err.status).json(this.body(err));
  }

  /** OpenAI's envelope; other API families override only this. */
  protected body(err: ApiError): unknown {
    return { error: { message: err.message, type: err.type, param: err.param, code: err.code } };
  }

  private toApiError(exception: unknown, req: Request, requestId: string): ApiError {
    if (exception instanceof ApiError) return exception;
    if (exception instanceof HttpException) return fromHttpException(exception, req);
    const bodyError = fromBodyParserError(exception);
    if (bodyError) return bodyError;
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
  return null;
}
