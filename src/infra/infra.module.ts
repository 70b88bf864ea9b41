import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { EphemeralCalls } from './ephemeral-calls.service';
import { EventLog } from './event-log.service';
import { JobProducer } from './job-producer.service';
import { Metrics, QueueDepth } from './metrics.service';
import { ModelCatalog } from './model-catalog';
import type { Logger } from './logger';
import { RateLimiter } from './rate-limiter.service';
import { RedisBus } from './redis-bus.service';
import { RedisConnections } from './redis-connections';
import { StreamSlots } from './stream-slots.service';
import { WorkerHeartbeat } from './worker-heartbeat.service';
import { APP_CONFIG, LOGGER } from '../config/tokens';

const SHARED = [
  RedisConnections,
  RedisBus,
  EventLog,
  RateLimiter,
  StreamSlots,
  JobProducer,
  ModelCatalog,
  Metrics,
  QueueDepth,
  WorkerHeartbeat,
  EphemeralCalls,
];

/** Infrastructure both roles share: config, logger, Redis connections, the bus, event log, limits and queues. */
@Global()
@Module({})
export class InfraModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    const values = [
      { provide: APP_CONFIG, useValue: config },
      { provide: LOGGER, useValue: logger },
    ];
    return {
      module: InfraModule,
      providers: [...values, ...SHARED],
      exports: [APP_CONFIG, LOGGER, ...SHARED],
    };
  }
}
