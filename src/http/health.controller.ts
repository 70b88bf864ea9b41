import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { HealthService, type Readiness } from '../application/health.service';
import { inflight } from './inflight';

/**
 * Probes, without auth. `live`: the process is up and serving (restart it when this fails). `ready`: Redis and MongoDB
 * answer and a worker sent a heartbeat lately (send it traffic only then); a 503 names the failed checks. `/health` is
 * `ready`, as it was before the two were split.
 */
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get(['ready', ''])
  async ready(@Res({ passthrough: true }) res: Response): Promise<Readiness & { error?: object }> {
    const checks = { ...this.health.storeChecks(), worker: this.health.workerCheck() };
    const readiness = inflight.draining
      ? { status: 'unavailable' as const, checks: { draining: { status: 'failed' as const, reason: 'shutting down' } } }
      : await this.health.readiness(checks);
    if (readiness.status === 'ok') return readiness;
    res.status(503);
    const failed = Object.entries(readiness.checks).filter(([, c]) => c.status === 'failed');
    const message = `Not ready: ${failed.map(([name, c]) => `${name} (${c.reason})`).join(', ')}.`;
    // OpenAI's envelope beside the checks, so clients that read errors read this one too.
    return { ...readiness, error: { message, type: 'server_error', param: null, code: 'not_ready' } };
  }
}
