import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ApiModule } from './api.module';
import { createLogger, PinoNestLogger } from './common/logger';
import { requestIdMiddleware } from './common/request-context';
import { configOrExit } from './config/boot';

async function bootstrap(): Promise<void> {
  const config = configOrExit('api');
  const logger = createLogger(config.logLevel, 'api');
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger),
    rawBody: true,
    bodyParser: false,
  });
  app.use(requestIdMiddleware);
  app.useBodyParser('json', { limit: config.bodyLimitBytes });
  app.useBodyParser('urlencoded', { limit: config.bodyLimitBytes, extended: true });
  app.set('query parser', 'extended'); // metadata[key]=value and include[]=... as the SDKs send them
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  app.enableShutdownHooks();
  await app.listen(config.port);
  logger.info({ port: config.port }, 'api listening');
}

void bootstrap();
