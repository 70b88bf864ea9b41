import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config';
import { accessLogParams } from '../http/access-log';
import { ApiExceptionFilter } from '../http/api-exception.filter';
import { ReadBodyInterceptor } from '../http/read-body.interceptor';
import { InfraModule } from '../infra/infra.module';
import type { Logger } from '../infra/logger';
import { PersistenceModule } from '../persistence/persistence.module';
import { ChatModule } from './chat.module';
import { ConversationsModule } from './conversations.module';
import { ModelsModule } from './models.module';
import { HealthModule } from './health.module';
import { KeysModule } from './keys.module';
import { OhMyGptModule } from './ohmygpt.module';
import { ResponsesModule } from './responses.module';
import { UsageModule } from './usage.module';
import { WebhookEventsModule } from './webhook-events.module';
import { WebhooksModule } from './webhooks.module';

/** The HTTP role: validates, authenticates, writes records, enqueues. Never consumes jobs, never calls upstreams. */
@Module({})
export class ApiModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        InfraModule.forRoot(config, logger),
        LoggerModule.forRoot(accessLogParams(logger)),
        PersistenceModule.forRoot(config),
        KeysModule,
        WebhookEventsModule,
        WebhooksModule,
        ResponsesModule,
        ChatModule,
        ConversationsModule,
        ModelsModule,
        OhMyGptModule,
        UsageModule,
        HealthModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        { provide: APP_INTERCEPTOR, useClass: ReadBodyInterceptor },
      ],
    };
  }
}
