import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { configOrExit, startOrExit } from './config/boot';
import { bootSummary } from './config/boot-summary';
import { configureHttp, drainHttp, openRequests } from './http/http-app';
import { mountQueueBoard, QUEUE_BOARD_PATH } from './http/queue-board';
import { createLogger, PinoNestLogger } from './infra/logger';
import { onStopSignal } from './infra/shutdown';
import { ApiModule } from './modules/api.module';

async function bootstrap(): Promise<void> {
  const config = configOrExit('api');
  const logger = createLogger(config.logLevel, 'api', config.logFormat);
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger),
    bodyParser: false,
  });
  configureHttp(app, config);
  const board = mountQueueBoard(app, config);
  await (config.host ? app.listen(config.port, config.host) : app.listen(config.port));
  const url = `http://${config.host ?? '0.0.0.0'}:${config.port}`;
  // One line about the whole setup instead of one per module and route.
  logger.info(
    {
      url,
      port: config.port,
      host: config.host ?? 'all interfaces',
      dashboard: board ? `${url}${QUEUE_BOARD_PATH}` : 'off (no ADMIN_TOKEN)',
      docs: `${url}/docs`,
      ...bootSummary(config),
    },
    'api listening',
  );

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

startOrExit('api', bootstrap);
