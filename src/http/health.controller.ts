import { Controller, Get } from '@nestjs/common';
import { HealthService } from '../application/health.service';
import { AppError } from '../domain/errors';
import { inflight } from './inflight';

/** Liveness and readiness in one: 200 when MongoDB and Redis answer, 503 otherwise. No auth. */
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  async check(): Promise<{ status: 'ok' }> {
    if (inflight.draining) throw AppError.unavailable('This api process is shutting down.');
    if (!(await this.health.storesReachable())) throw AppError.unavailable('MongoDB or Redis is not reachable.');
    return { status: 'ok' };
  }
}
