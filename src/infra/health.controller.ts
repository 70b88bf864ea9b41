import { Controller, Get, Inject } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { ApiError } from '../common/api-error';
import { inflight } from './inflight';
import { RedisBus } from './redis-bus.service';

/** Liveness and readiness in one: 200 when MongoDB and Redis answer, 503 otherwise. No auth. */
@Controller('health')
export class HealthController {
  constructor(@InjectConnection() private readonly mongo: Connection, @Inject(RedisBus) private readonly bus: RedisBus) {}

  @Get()
  async check(): Promise<{ status: 'ok' }> {
    if (inflight.draining) throw ApiError.unavailable('This api process is shutting down.');
    try {
      await Promise.all([this.mongo.db!.admin().ping(), this.bus.ping()]);
    } catch {
      throw ApiError.unavailable('MongoDB or Redis is not reachable.');
    }
    return { status: 'ok' };
  }
}
