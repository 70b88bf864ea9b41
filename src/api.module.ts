import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ApiKeysService } from './auth/api-keys.service';
import { AuthGuard } from './auth/auth.guard';
import { ApiExceptionFilter } from './common/api-exception.filter';
import type { Logger } from './common/logger';
import type { AppConfig } from './config/app-config';
import { CoreModule } from './infra/core.module';
import { HealthController } from './infra/health.controller';
import { JobProducer } from './queue/job-producer.service';
import { AdminKeysController, AdminGuard } from './keys/admin.controller';
import { KeyAdminService } from './keys/key-admin.service';
import { KeysStorageModule } from './keys/keys-storage.module';
import { QueueName } from './queue/jobs';
import { UsageController, UsageService } from './usage/usage.controller';
import { ResponsesController } from './responses/responses.controller';
import { ResponsesService } from './responses/responses.service';
import { ResponsesStorageModule } from './responses/responses-storage.module';
import { CallLifecycle } from './calls/call-lifecycle.service';
import { CallStreamer } from './calls/call-streamer.service';
import { EventTailer } from './events/event-tailer.service';
import { TerminalWaiter } from './calls/terminal-waiter.service';
import { ChatCompletionsController } from './chat/chat-completions.controller';
import { ChatCompletionsService } from './chat/chat-completions.service';
import { ChatStorageModule } from './chat/chat-storage.module';
import { OhMyGptStoreController } from './chat/ohmygpt-store.controller';
import { OhMyGptStoreService } from './chat/ohmygpt-store.service';

/** The HTTP role: validates, authenticates, writes records, enqueues. Never consumes jobs. */
@Module({})
export class ApiModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        CoreModule.forRoot(config, logger),
        BullModule.registerQueue(...Object.values(QueueName).map((name) => ({ name }))),
        ResponsesStorageModule,
        ChatStorageModule,
        KeysStorageModule,
      ],
      controllers: [HealthController, ResponsesController, ChatCompletionsController, OhMyGptStoreController, UsageController, AdminKeysController],
      providers: [
        ApiKeysService,
        AuthGuard,
        JobProducer,
        TerminalWaiter,
        CallLifecycle,
        EventTailer,
        CallStreamer,
        ResponsesService,
        ChatCompletionsService,
        OhMyGptStoreService,
        UsageService,
        KeyAdminService,
        AdminGuard,
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
      ],
    };
  }
}
