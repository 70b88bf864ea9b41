import { type DynamicModule, Global, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import type { AppConfig } from '../config/app-config';
import { API_KEY_MODEL, ApiKeySchema } from './api-key.schema';
import { ApiKeysRepository } from './api-keys.repository';
import { CHAT_COMPLETION_MODEL, ChatCompletionSchema } from './chat-completion.schema';
import { ChatCompletionsRepository } from './chat-completions.repository';
import { RESPONSE_MODEL, ResponseSchema } from './response.schema';
import { ResponsesRepository } from './responses.repository';
import { IDEMPOTENCY_MODEL, IdempotencyKeySchema } from './idempotency.schema';
import {
  CONVERSATION_ITEM_MODEL,
  CONVERSATION_MODEL,
  ConversationItemSchema,
  ConversationSchema,
} from './conversation.schema';
import { ConversationsRepository } from './conversations.repository';
import { IdempotencyRepository } from './idempotency.repository';
import { MongoHealth } from './store-health';
import {
  WEBHOOK_DELIVERY_MODEL,
  WEBHOOK_ENDPOINT_MODEL,
  WebhookDeliverySchema,
  WebhookEndpointSchema,
} from './webhook.schema';
import { WebhookDeliveriesRepository, WebhookEndpointsRepository } from './webhooks.repository';

const REPOSITORIES = [
  ResponsesRepository,
  ChatCompletionsRepository,
  ApiKeysRepository,
  IdempotencyRepository,
  ConversationsRepository,
  MongoHealth,
  WebhookEndpointsRepository,
  WebhookDeliveriesRepository,
];

/** The MongoDB connection and every repository; the only module that knows mongoose. */
@Global()
@Module({})
export class PersistenceModule {
  static forRoot(config: AppConfig): DynamicModule {
    const isApi = config.role === 'api';
    return {
      module: PersistenceModule,
      imports: [
        MongooseModule.forRoot(config.mongodbUri, {
          serverSelectionTimeoutMS: isApi ? 2000 : 5000,
          // The api fails fast (503) instead of queueing commands while MongoDB is away; workers and tools wait.
          bufferCommands: !isApi,
          retryAttempts: isApi ? 3 : 10,
          retryDelay: 1000,
        }),
        MongooseModule.forFeature([
          { name: RESPONSE_MODEL, schema: ResponseSchema },
          { name: CHAT_COMPLETION_MODEL, schema: ChatCompletionSchema },
          { name: API_KEY_MODEL, schema: ApiKeySchema },
          { name: IDEMPOTENCY_MODEL, schema: IdempotencyKeySchema },
          { name: CONVERSATION_MODEL, schema: ConversationSchema },
          { name: CONVERSATION_ITEM_MODEL, schema: ConversationItemSchema },
          { name: WEBHOOK_ENDPOINT_MODEL, schema: WebhookEndpointSchema },
          { name: WEBHOOK_DELIVERY_MODEL, schema: WebhookDeliverySchema },
        ]),
      ],
      providers: REPOSITORIES,
      exports: REPOSITORIES,
    };
  }
}
