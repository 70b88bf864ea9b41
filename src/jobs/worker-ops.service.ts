import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HealthService } from '../application/health.service';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG, LOGGER } from '../config/tokens';
import type { Logger } from '../infra/logger';
import { Metrics } from '../infra/metrics.service';
import { metricsAllowed } from '../infra/ops-auth';
import { WorkerHeartbeat } from '../infra/worker-heartbeat.service';
import { JobWorkerService } from './job-worker.service';

/**
 * The worker's operations side: its heartbeat in Redis every WORKER_HEARTBEAT_S, and a small HTTP listener on
 * WORKER_HTTP_PORT (0: none) for operations only, taking no API traffic: /metrics (the METRICS_TOKEN rule, as on the
 * api), /health/live and /health/ready (the stores answer and this process takes jobs).
 */
@Injectable()
export class WorkerOps implements OnApplicationBootstrap, OnApplicationShutdown {
  private server?: Server;
  private timer?: NodeJS.Timeout;
  private readonly log: Logger;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    private readonly heartbeat: WorkerHeartbeat,
    private readonly health: HealthService,
    private readonly metrics: Metrics,
    private readonly jobs: JobWorkerService,
  ) {
    this.log = logger.child({ ctx: 'WorkerOps' });
  }

  async onApplicationBootstrap(): Promise<void> {
    const beat = () =>
      void this.heartbeat.beat().catch((err: Error) => this.log.warn({ err: err.message }, 'heartbeat not written'));
    beat();
    this.timer = setInterval(() => !this.jobs.draining && beat(), this.config.workerHeartbeatS * 1000);
    this.timer.unref();
    if (this.config.workerHttpPort === 0) return;
    const server = createServer((req, res) => void this.answer(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.workerHttpPort, this.config.host, () => resolve());
    });
  }

  /** Where the listener is, for the boot summary. */
  get address(): string | null {
    const a = this.server?.address();
    return a && typeof a === 'object' ? `http://${this.config.host ?? '0.0.0.0'}:${a.port}` : null;
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    try {
      if (req.method !== 'GET') return json(405, error('Only GET is served here.', 'method_not_allowed'));
      if (path === '/health/live') return json(200, { status: 'ok' });
      if (path === '/health/ready' || path === '/health') {
        const checks = {
          ...this.health.storeChecks(),
          jobs: async () => {
            if (this.jobs.draining) throw new Error('shutting down: taking no jobs');
          },
        };
        const readiness = await this.health.readiness(checks);
        return json(readiness.status === 'ok' ? 200 : 503, readiness);
      }
      if (path === '/metrics') {
        if (!metricsAllowed(this.config, req.headers.authorization))
          return json(401, error('A valid metrics token is required.', 'invalid_metrics_token'));
        const { contentType, body } = await this.metrics.scrape();
        res.writeHead(200, { 'content-type': contentType }).end(body);
        return;
      }
      json(404, error(`Invalid URL (${req.method} ${path})`, 'not_found'));
    } catch (err) {
      this.log.error({ err }, 'operations request failed');
      if (!res.headersSent) json(500, error('The operations request failed.', 'server_error'));
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function error(message: string, code: string) {
  return { error: { message, type: 'invalid_request_error', param: null, code } };
}
