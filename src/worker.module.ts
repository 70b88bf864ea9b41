import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import type { Logger } from './common/logger';
import type { AppConfig } from './config/app-config';
import { CoreModule } from './infra/core.module';
import { CallRunner } from './calls/call-runner.service';
import { ChatStorageModule } from './chat/chat-storage.module';
import { ResponsesStorageModule } from './responses/responses-storage.module';
import { UpstreamClient } from './upstream/upstream.client';
import { JobWorkerService } from './worker/job-worker.service';
import { JobProducer } from './queue/job-producer.service';
import { QueueName } from './queue/jobs';
import { CallJobProcessor } from './worker/call-job.processor';
import { RecoverySweep } from './worker/recovery-sweep.service';

/** The worker role: no HTTP port; takes jobs and calls the upstream. Only it imports processors. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        CoreModule.forRoot(config, logger),
        // Queues to enqueue on, for the recovery sweep (consuming is JobWorkerService's).
        BullModule.registerQueue(...Object.values(QueueName).map((name) => ({ name }))),
        ResponsesStorageModule,
        ChatStorageModule,
      ],
      providers: [UpstreamClient, CallRunner, CallJobProcessor, JobWorkerService, JobProducer, RecoverySweep],
    };
  }
}
