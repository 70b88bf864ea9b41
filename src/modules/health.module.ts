import { Module } from '@nestjs/common';
import { HealthService } from '../application/health.service';
import { DocsController } from '../http/docs.controller';
import { HealthController } from '../http/health.controller';
import { MetricsController } from '../http/metrics.controller';

/** Operations: probes, the Prometheus scrape, and the description of our own endpoints. */
@Module({ controllers: [HealthController, MetricsController, DocsController], providers: [HealthService] })
export class HealthModule {}
