import { Injectable } from '@nestjs/common';
import { RedisConnections } from '../infra/redis-connections';
import { MongoHealth } from '../persistence/store-health';

/** Whether the stores this process needs answer. */
@Injectable()
export class HealthService {
  constructor(
    private readonly mongo: MongoHealth,
    private readonly redis: RedisConnections,
  ) {}

  async storesReachable(): Promise<boolean> {
    try {
      await Promise.all([this.mongo.ping(), this.redis.ping()]);
      return true;
    } catch {
      return false;
    }
  }
}
