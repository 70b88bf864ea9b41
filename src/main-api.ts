import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { configOrExit } from './config/boot';
import { configureHttp, drainHttp, openRequests } from './http/http-app';
import { createLogger, PinoNestLogger } from './infra/logger';
import { onStopSignal } from './infra/shutdown';
import { ApiModule } from './modules/api.module';

async function bootstrap(): Promise<void> {
  const config = configOrExit('api');
  const logger = createLogger(config.logLevel, 'api');
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger),
    bodyParser: false,
  });
  configureHttp(app, config);
  await (config.host ? app.listen(config.port, config.host) : app.listen(config.port));
  logger.info({ port: config.port, host: config.host ?? 'all interfaces' }, 'api listening');

  // SIGTERM/SIGINT: stop accepting connections, let open requests and streams finish within
  // API_SHUTDOWN_GRACE_MS, then close the stores and exit.
  onStopSignal(
    logger,
    config.apiShutdownGraceMs,
    (signal) => {
      logger.info({ signal, openRequests: openRequests() }, 'draining');
      return drainHttp(app, config.apiShutdownGraceMs);
    },
    () => app.close(),
  );
}

void bootstrap();
