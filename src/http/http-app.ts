import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Server } from 'node:http';
import type { AppConfig } from '../config/app-config';
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
