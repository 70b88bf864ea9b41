import { type DynamicModule, Module } from '@nestjs/common';
import type { Logger } from './common/logger';
import type { AppConfig } from './config/app-config';
import { CoreModule } from './infra/core.module';
import { CallRunner } from './calls/call-runner.service';
import { ChatStorageModule } from './chat/chat-storage.module';
import { ResponsesStorageModule } from './responses/responses-storage.module';
import { UpstreamClient } from './upstream/upstream.client';
import { JobWorkerService } from './worker/job-worker.service';
import { CallJobProcessor } from './worker/call-job.processor';

/** The worker role: no HTTP port; takes jobs and calls the upstream. Only it imports processors. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: WorkerModule,
      imports: [CoreModule.forRoot(config, logger), ResponsesStorageModule, ChatStorageModule],
      providers: [UpstreamClient, CallRunner, CallJobProcessor, JobWorkerService],
    };
  }
}
