import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { configOrExit, startOrExit } from './config/boot';
import { bootSummary } from './config/boot-summary';
import { createLogger, PinoNestLogger } from './infra/logger';
import { onStopSignal } from './infra/shutdown';
import { JobWorkerService } from './jobs/job-worker.service';
import { WorkerOps } from './jobs/worker-ops.service';
import { WorkerModule } from './modules/worker.module';

async function bootstrap(): Promise<void> {
  const config = configOrExit('worker');
  const logger = createLogger(config.logLevel, 'worker', config.logFormat);
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger),
  });
  await app.init();
  const jobs = app.get(JobWorkerService);
  // One line about the whole setup (the tests wait for "worker ready").
  logger.info(
    {
      concurrency: config.workerConcurrency,
      queues: jobs.queues,
      ops: app.get(WorkerOps).address ?? 'off',
      ...bootSummary(config),
    },
    'worker ready',
  );
  // SIGTERM/SIGINT: stop taking jobs, let running ones finish within the grace period (then hand
  // them back), and only then close the connections the jobs need.
  onStopSignal(
    logger,
    config.workerShutdownGraceMs,
    (signal) => {
      logger.info({ signal }, 'shutting down');
      return jobs.drain();
    },
    () => app.close(),
  );
}

startOrExit('worker', bootstrap);
