import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from 'express';
import type { Params } from 'nestjs-pino';
import type { Caller } from '../domain/caller';
import type { Logger } from '../infra/logger';

type LoggedRequest = Request & { requestId?: string; caller?: Caller };

/** The route template of a request (`/v1/responses/:response_id`), never its path: ids stay out of labels. */
export function routeOf(req: IncomingMessage): string {
  const r = req as LoggedRequest;
  const template = (r.route as { path?: unknown } | undefined)?.path;
  return typeof template === 'string' ? `${r.baseUrl ?? ''}${template}` : 'unmatched';
}

/** Probes and scrapes that succeed come every few seconds and say nothing: they are not logged (failures are). */
const QUIET = /^\/(health(\/live|\/ready)?|metrics)$/;

/**
 * The access log (nestjs-pino's pino-http middleware): one line per request when it ended, with method, route
 * template, status, duration, request id and the caller's key id (set by the auth guard; never the key itself).
 */
export function accessLogParams(logger: Logger): Params {
  const fields = (req: IncomingMessage, res: ServerResponse, val: { responseTime?: number }) => {
    const r = req as LoggedRequest;
    return {
      method: r.method,
      route: routeOf(req),
      status: res.statusCode,
      durationMs: val.responseTime,
      ...(r.caller ? { keyId: r.caller.keyId } : {}),
    };
  };
  return {
    pinoHttp: {
      logger,
      genReqId: (req) => (req as LoggedRequest).requestId ?? '',
      customAttributeKeys: { reqId: 'requestId' },
      quietReqLogger: true,
      quietResLogger: true,
      autoLogging: { ignore: (req) => QUIET.test((req.url ?? '').split('?')[0]) },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
      customSuccessMessage: (req, res) => `${req.method} ${routeOf(req)} ${res.statusCode}`,
      customErrorMessage: (req, res) => `${req.method} ${routeOf(req)} ${res.statusCode}`,
      customSuccessObject: (req, res, val: { responseTime?: number }) => fields(req, res, val),
      customErrorObject: (req, res, _err, val: { responseTime?: number }) => fields(req, res, val),
    },
  };
}
