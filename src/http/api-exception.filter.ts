import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppError, type ErrorKind } from '../domain/errors';
import { newRequestId } from '../domain/ids';
import type { Logger } from '../infra/logger';
import { isOutage } from '../infra/outage';
import { LOGGER } from '../config/tokens';
import { lingerThenClose } from './linger';

/** The HTTP status of each kind of error. */
const STATUS: { readonly [K in ErrorKind]: number } = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media: 415,
  rate_limited: 429,
  upstream_failed: 502,
  internal: 500,
  unavailable: 503,
  timeout: 504,
};

export function statusOf(err: AppError): number {
  return err.details.status ?? STATUS[err.kind];
}

/** OpenAI's `type`: the error's own, else by status. */
function typeOf(err: AppError): string {
  return err.details.type ?? (statusOf(err) >= 500 ? 'server_error' : 'invalid_request_error');
}

/** Headers an error answer carries: when to retry, and whether a client's automatic retry would be wrong. */
function headersOf(err: AppError): Record<string, string> {
  const headers: Record<string, string> = {};
  if (err.details.retryAfterS !== undefined) headers['retry-after'] = String(err.details.retryAfterS);
  if (err.details.retryable === false) headers['x-should-retry'] = 'false';
  return headers;
}

/**
 * MongoDB (and FerretDB) refusing a document built from the request: a field name or value it
 * cannot store (BadValue, DollarPrefixedFieldName, DottedFieldName) or a document too large.
 * The client sent it, so the answer is a 4xx, not a 500; nothing was written.
 */
const STORE_REFUSED_CODES = new Set([2, 52, 57]);
const STORE_TOO_LARGE_CODES = new Set([10334, 17419, 17420]);

function fromStoreRefusal(err: unknown): AppError | null {
  const e = err as { name?: string; code?: unknown };
  if (!e || typeof e !== 'object') return null;
  if (
    e.name === 'BSONError' ||
    (e.name === 'MongoServerError' && typeof e.code === 'number' && STORE_REFUSED_CODES.has(e.code))
  ) {
    return AppError.badRequest(
      'The request contains a field name or value that cannot be stored (for example a key starting with "$" or containing ".", or arrays nested in arrays).',
      null,
      'invalid_value',
    );
  }
  if (e.name === 'MongoServerError' && typeof e.code === 'number' && STORE_TOO_LARGE_CODES.has(e.code)) {
    return AppError.tooLarge('The request is too large to be stored.');
  }
  return null;
}

/** The OhMyGPT-compatible routes answer every error in OhMyGPT's envelope, unknown routes and unparsable bodies included. */
export const OHMYGPT_PATH_PREFIX = '/api/v1/ai/';

/** The error body for a path: OhMyGPT's `{statusCode, message, data: null}` under its prefix, else OpenAI's envelope. */
export function errorEnvelope(err: AppError, path: string): unknown {
  if (path.startsWith(OHMYGPT_PATH_PREFIX)) return { statusCode: statusOf(err), message: err.message, data: null };
  return { error: { message: err.message, type: typeOf(err), param: err.param, code: err.code } };
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
    for (const [name, value] of Object.entries(headersOf(err))) res.setHeader(name, value);
    // Refused before its body was read (guards run first): the body is never parsed; the connection closes after it.
    if (err.kind === 'unauthorized' || err.kind === 'forbidden') lingerThenClose(req, res);
    res.status(statusOf(err)).json(this.body(err, req.path ?? ''));
  }

  /** The envelope for the path (errors raised before routing, such as body parsing, come here too); families override only this. */
  protected body(err: AppError, path: string): unknown {
    return errorEnvelope(err, path);
  }

  private toApiError(exception: unknown, req: Request, requestId: string): AppError {
    if (exception instanceof AppError) return exception;
    if (exception instanceof HttpException) return fromHttpException(exception, req);
    const bodyError = fromBodyParserError(exception);
    if (bodyError) return bodyError;
    const refused = fromStoreRefusal(exception);
    if (refused) {
      this.logger.warn(
        { requestId, err: (exception as Error).message?.slice(0, 300) },
        'store refused the request content',
      );
      return refused;
    }
    if (isOutage(exception)) {
      this.logger.warn({ requestId, err: (exception as Error).message }, 'store unavailable');
      return AppError.unavailable();
    }
    this.logger.error({ requestId, err: exception }, 'unhandled error');
    return new AppError(
      'internal',
      `The server had an error while processing your request. Sorry about that! (Please include the request ID ${requestId} if you report it.)`,
    );
  }
}

function fromHttpException(e: HttpException, req: Request): AppError {
  const status = e.getStatus();
  if (status === 404) return AppError.notFound(`Invalid URL (${req.method} ${req.path})`);
  const cause = (e as { cause?: unknown }).cause;
  const parsed = fromBodyParserError(cause);
  if (parsed) return parsed;
  if (status === 413) return AppError.tooLarge('The request body is too large.');
  // Nest turns body-parser's SyntaxError into a bare BadRequestException carrying its message.
  if (status === 400 && /JSON|Unexpected token|Unexpected end/.test(e.message))
    return fromBodyParserError({ type: 'entity.parse.failed' })!;
  if (status === 400) return AppError.badRequest(e.message);
  return new AppError(kindOfStatus(status), e.message, { status });
}

/** The kind for a status Nest or a body parser chose; the status itself is kept either way. */
function kindOfStatus(status: number): ErrorKind {
  if (status >= 500) return 'internal';
  return (
    (Object.keys(STATUS) as ErrorKind[]).find((k) => k !== 'upstream_failed' && STATUS[k] === status) ??
    'invalid_request'
  );
}

/** body-parser errors carry a `type`; turn them into clear 4xx answers. */
function fromBodyParserError(e: unknown): AppError | null {
  const t = (e as { type?: unknown })?.type;
  if (t === 'entity.parse.failed') {
    return AppError.badRequest(
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
      null,
      'invalid_json',
    );
  }
  if (t === 'entity.too.large') return AppError.tooLarge('The request body is too large.');
  if (t === 'entity.too.deep') {
    const message = (e as { message?: string }).message ?? 'The JSON body is nested too deeply.';
    return AppError.badRequest(message, null, 'nesting_too_deep');
  }
  if (t === 'encoding.unsupported' || t === 'charset.unsupported') {
    return new AppError('unsupported_media', 'Unsupported request body encoding.');
  }
  // Any other client error of body-parser or raw-body (too many form fields, form nesting too
  // deep, a corrupt gzip body, an aborted upload...): http-errors marks them `expose`.
  const { expose, status, message } = (e ?? {}) as { expose?: unknown; status?: unknown; message?: unknown };
  if (expose === true && typeof status === 'number' && status >= 400 && status < 500) {
    const text = `Could not read the request body: ${typeof message === 'string' ? message : 'invalid body'}.`;
    return new AppError(kindOfStatus(status), text, { status });
  }
  return null;
}
