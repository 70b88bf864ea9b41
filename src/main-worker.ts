import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createLogger, PinoNestLogger } from './common/logger';
import { configOrExit } from './config/boot';
import { JobWorkerService } from './worker/job-worker.service';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  const config = configOrExit('worker');
  const logger = createLogger(config.logLevel, 'worker');
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger),
  });
  await app.init();
  // SIGTERM/SIGINT: stop taking jobs, let running ones finish within the grace period (then hand
  // them back), and only then close the connections the jobs need.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    void app
      .get(JobWorkerService)
      .drain()
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
