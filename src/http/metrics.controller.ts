import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/tokens';
import { AppError } from '../domain/errors';
import { Metrics } from '../infra/metrics.service';
import { metricsAllowed } from '../infra/ops-auth';

/** Prometheus' scrape: open unless METRICS_TOKEN is set, then `Bearer <METRICS_TOKEN>` (or ADMIN_TOKEN). */
@Controller('metrics')
export class MetricsController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  @Get()
  async scrape(@Headers('authorization') authorization: unknown, @Res() res: Response): Promise<void> {
    if (!metricsAllowed(this.config, authorization))
      throw AppError.unauthorized('A valid metrics token is required.', 'invalid_metrics_token');
    const { contentType, body } = await this.metrics.scrape();
    res.status(200).type(contentType).send(body);
  }
}
