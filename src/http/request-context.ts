import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
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

export function requestContextOf(req: ContextRequest): RequestContext {
  const ua = req.headers['user-agent'];
  return {
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
