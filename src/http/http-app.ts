import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Server } from 'node:http';
import type { AppConfig } from '../config/app-config';
import type { NextFunction, Request, Response } from 'express';
import { runInLogContext } from '../infra/log-context';
import { Metrics } from '../infra/metrics.service';
import { routeOf } from './access-log';
import { answerClientError } from './client-error';
import { inflight } from './inflight';
import { requestIdMiddleware } from './request-context';

/**
 * Everything the api's HTTP server needs before routing: request ids, draining, query parsing. Bodies are read later,
 * after the route's guard (see ReadBodyInterceptor).
 */
export function configureHttp(app: NestExpressApplication, config: AppConfig): void {
  app.use(inflight.middleware);
  app.use(requestIdMiddleware);
  app.use(requestScope);
  app.use(httpMetrics(app.get(Metrics)));
  app.set('query parser', 'extended'); // metadata[key]=value and include[]=... as the SDKs send them
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  (app.getHttpServer() as Server).on('clientError', answerClientError);
}

/** SIGTERM: stop accepting connections and let open requests and streams finish within the grace period. */
export function drainHttp(app: NestExpressApplication, graceMs: number): Promise<void> {
  const server = app.getHttpServer() as Server;
  server.close();
  server.closeIdleConnections();
  return inflight.drain(graceMs);
}

export const openRequests = (): number => inflight.openRequests;

/**
 * What runs on behalf of a request knows it: log lines carry its id, and the rate limiter can add its headers before
 * the answer is written.
 */
function requestScope(req: Request & { requestId?: string }, res: Response, next: NextFunction): void {
  const setHeader = (name: string, value: string) => {
    if (!res.headersSent) res.setHeader(name, value);
  };
  runInLogContext({ requestId: req.requestId ?? '', setHeader }, next);
}

/** http_requests_total, http_request_duration_seconds and http_rejected_total, when each answer ended. */
function httpMetrics(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.once('close', () => {
      const labels = { method: req.method, route: routeOf(req), status: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      if (res.statusCode === 429 || res.statusCode === 503)
        metrics.rejected.inc({ status: labels.status, route: labels.route });
    });
    next();
  };
}
