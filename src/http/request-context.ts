import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../domain/errors';
import { newRequestId } from '../domain/ids';
import type { RequestContext } from '../domain/request-context';

type ContextRequest = Request & { requestId?: string; rawBody?: Buffer };

/** Gives every request an id, echoed as `x-request-id` on every response, errors included. */
export function requestIdMiddleware(req: ContextRequest, res: Response, next: NextFunction): void {
  const id = newRequestId();
  req.requestId = id;
  res.setHeader('x-request-id', id);
  next();
}

/** Printable ASCII, as the SDKs and RFC drafts use for it, up to 256 characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,256}$/;

function idempotencyKeyOf(req: Request): string | null {
  const value = req.headers['idempotency-key'];
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY.test(value)) {
    const message = "Invalid 'Idempotency-Key' header: expected 1 to 256 printable ASCII characters.";
    throw AppError.badRequest(message, 'Idempotency-Key', 'invalid_value');
  }
  return value;
}

export function requestContextOf(req: ContextRequest): RequestContext {
  const ua = req.headers['user-agent'];
  return {
    idempotencyKey: idempotencyKeyOf(req),
    requestId: req.requestId ?? newRequestId(),
    userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null,
    reqIp: req.ip ?? null,
    reqBodyHash: createHash('sha256')
      .update(req.rawBody ?? Buffer.alloc(0))
      .digest('hex'),
  };
}

export const ReqContext = createParamDecorator((_data: unknown, context: ExecutionContext): RequestContext =>
  requestContextOf(context.switchToHttp().getRequest<ContextRequest>()),
);

/** Aborts when the client closes the connection before we answered. */
export function clientGoneSignal(req: Request, res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  req.on('aborted', () => controller.abort());
  return controller.signal;
}
