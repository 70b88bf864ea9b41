import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import type { AppConfig } from '../config/app-config';
import type { Logger } from '../common/logger';
import { RateLimiter } from '../calls/rate-limiter.service';
import { EventLog } from '../events/event-log.service';
import { RedisBus } from './redis-bus.service';
import { APP_CONFIG, LOGGER } from './tokens';

/** What both roles share: config, logger, the MongoDB connection, BullMQ's Redis and the bus. */
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    const isApi = config.role === 'api';
    return {
      module: CoreModule,
      global: true,
      imports: [
        MongooseModule.forRoot(config.mongodbUri, {
          serverSelectionTimeoutMS: isApi ? 2000 : 5000,
          // The api fails fast (503) instead of queueing commands while MongoDB is away;
          // workers wait for it to come back.
          bufferCommands: !isApi,
          retryAttempts: isApi ? 3 : 10,
          retryDelay: 1000,
        }),
        BullModule.forRoot({
          prefix: config.queuePrefix,
          connection: {
            url: config.redisUrl,
            connectionName: `${config.role}-queue`,
            // The api answers 503 at once when Redis is away; workers wait for it.
            maxRetriesPerRequest: isApi ? 1 : null,
          },
        }),
      ],
      providers: [{ provide: APP_CONFIG, useValue: config }, { provide: LOGGER, useValue: logger }, RedisBus, EventLog, RateLimiter],
      exports: [APP_CONFIG, LOGGER, RedisBus, EventLog, RateLimiter],
    };
  }
}
