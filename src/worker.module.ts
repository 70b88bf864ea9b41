import { type DynamicModule, Module } from '@nestjs/common';
import type { Logger } from './common/logger';
import type { AppConfig } from './config/app-config';
import { CoreModule } from './infra/core.module';
import { ResponseRunner } from './responses/response-runner.service';
import { ResponsesStorageModule } from './responses/responses-storage.module';
import { UpstreamClient } from './upstream/upstream.client';
import { JobWorkerService } from './worker/job-worker.service';
import { ResponseJobProcessor } from './worker/response-job.processor';

/** The worker role: no HTTP port; takes jobs and calls the upstream. Only it imports processors. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: WorkerModule,
      imports: [CoreModule.forRoot(config, logger), ResponsesStorageModule],
      providers: [UpstreamClient, ResponseRunner, ResponseJobProcessor, JobWorkerService],
    };
  }
}
