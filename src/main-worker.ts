import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { configOrExit } from './config/boot';
import { createLogger, PinoNestLogger } from './infra/logger';
import { onStopSignal } from './infra/shutdown';
import { JobWorkerService } from './jobs/job-worker.service';
import { WorkerModule } from './modules/worker.module';

async function bootstrap(): Promise<void> {
  const config = configOrExit('worker');
  const logger = createLogger(config.logLevel, 'worker');
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger),
  });
  await app.init();
  // SIGTERM/SIGINT: stop taking jobs, let running ones finish within the grace period (then hand
  // them back), and only then close the connections the jobs need.
  onStopSignal(
    logger,
    config.workerShutdownGraceMs,
    (signal) => {
      logger.info({ signal }, 'shutting down');
      return app.get(JobWorkerService).drain();
    },
    () => app.close(),
  );
}

void bootstrap();
