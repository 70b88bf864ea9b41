import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ApiModule } from './api.module';
import { createLogger, PinoNestLogger } from './common/logger';
import { requestIdMiddleware } from './common/request-context';
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
  await app.listen(config.port);
  logger.info({ port: config.port }, 'api listening');

  // SIGTERM/SIGINT: stop accepting connections, let open requests and streams finish within
  // API_SHUTDOWN_GRACE_MS, then close the stores and exit.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, openRequests: inflight.openRequests }, 'draining');
    const server = app.getHttpServer();
    server.close();
    server.closeIdleConnections();
    void inflight
      .drain(config.apiShutdownGraceMs)
      .then(() => app.close())
      .then(() => process.exit(0))
      .catch((err: Error) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void bootstrap();
