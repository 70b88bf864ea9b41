import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiModule } from './api.module';
import { ApiError } from './common/api-error';
import { errorEnvelope } from './common/api-exception.filter';
import { newRequestId } from './common/ids';
import { createLogger, PinoNestLogger } from './common/logger';
import { requestIdMiddleware } from './common/request-context';
import { onStopSignal } from './common/shutdown';
import { configOrExit } from './config/boot';
import { inflight } from './infra/inflight';

async function bootstrap(): Promise<void> {
  const config = configOrExit('api');
  const logger = createLogger(config.logLevel, 'api');
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger),
    rawBody: true,
    bodyParser: false,
  });
  app.use(inflight.middleware);
  app.use(requestIdMiddleware);
  app.useBodyParser('json', { limit: config.bodyLimitBytes });
  app.useBodyParser('urlencoded', { limit: config.bodyLimitBytes, extended: true });
  app.set('query parser', 'extended'); // metadata[key]=value and include[]=... as the SDKs send them
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  (app.getHttpServer() as Server).on('clientError', answerClientError);
  await app.listen(config.port);
  logger.info({ port: config.port }, 'api listening');

  // SIGTERM/SIGINT: stop accepting connections, let open requests and streams finish within
  // API_SHUTDOWN_GRACE_MS, then close the stores and exit.
  onStopSignal(
    logger,
    config.apiShutdownGraceMs,
    (signal) => {
      logger.info({ signal, openRequests: inflight.openRequests }, 'draining');
      const server = app.getHttpServer();
      server.close();
      server.closeIdleConnections();
      return inflight.drain(config.apiShutdownGraceMs);
    },
    () => app.close(),
  );
}

void bootstrap();

/**
 * Requests Node's HTTP parser refuses before any handler runs (headers over 16 KB, a malformed
 * request line...): answered as every other error, with our envelope and an `x-request-id`,
 * where Node alone would send a bare status line. As Node does, only when no answer on this
 * (keep-alive) socket has started; otherwise the socket is just closed.
 */
function answerClientError(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex & { _httpMessage?: { headersSent?: boolean } | null }): void {
  if (err.code === 'ECONNRESET' || !socket.writable || socket._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message =
    status === 431 ? 'The request headers (or URL) are too large.' : status === 408 ? 'The request took too long to arrive.' : 'The request is not valid HTTP.';
  // The request line, if it arrived in this packet, tells which family's envelope to use.
  const path = /^[A-Z]+ (\S+)/.exec(err.rawPacket?.toString('latin1', 0, 512) ?? '')?.[1] ?? '';
  const body = JSON.stringify(errorEnvelope(new ApiError(status, message, 'invalid_request_error'), path));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${newRequestId()}\r\n\r\n${body}`,
  );
}
