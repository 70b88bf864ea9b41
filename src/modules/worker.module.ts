import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { InfraModule } from '../infra/infra.module';
import type { Logger } from '../infra/logger';
import { CallJobProcessor } from '../jobs/call-job.processor';
import { JobWorkerService } from '../jobs/job-worker.service';
import { WorkerOps } from '../jobs/worker-ops.service';
import { HealthService } from '../application/health.service';
import { PersistenceModule } from '../persistence/persistence.module';
import { CallFinisher } from '../worker/call-finisher.service';
import { CallRunner } from '../worker/call-runner.service';
import { ChatProtocol } from '../worker/protocols/chat-protocol';
import { ResponseProtocol } from '../worker/protocols/response-protocol';
import { ModelCatalogRefresher } from '../worker/model-catalog-refresher.service';
import { RecoverySweep } from '../worker/recovery-sweep.service';
import { TurnHistory } from '../worker/turn-history.service';
import { ResponseOverChatProtocol } from '../worker/protocols/response-over-chat-protocol';
import { UpstreamClients } from '../worker/upstream.client';
import { CallKindsModule } from './call-kinds.module';
import { WebhookWorkerService } from '../jobs/webhook-worker.service';
import { WebhookDelivery } from '../worker/webhook-delivery.service';
import { WebhookEventsModule } from './webhook-events.module';

/** The worker role: no API port (only WORKER_HTTP_PORT, for operations); takes jobs and calls the upstream. Only it loads processors and protocols. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        InfraModule.forRoot(config, logger),
        PersistenceModule.forRoot(config),
        CallKindsModule,
        WebhookEventsModule,
      ],
      providers: [
        UpstreamClients,
        TurnHistory,
        ResponseProtocol,
        ResponseOverChatProtocol,
        ChatProtocol,
        CallFinisher,
        CallRunner,
        CallJobProcessor,
        JobWorkerService,
        HealthService,
        WorkerOps,
        RecoverySweep,
        ModelCatalogRefresher,
        WebhookDelivery,
        WebhookWorkerService,
      ],
    };
  }
}
