import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createLogger, PinoNestLogger } from './common/logger';
import { configOrExit } from './config/boot';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  const config = configOrExit('worker');
  const logger = createLogger(config.logLevel, 'worker');
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger),
  });
  // SIGTERM/SIGINT close the BullMQ worker (in-flight jobs finish or return to the queue).
  app.enableShutdownHooks();
  await app.init();
}

void bootstrap();
