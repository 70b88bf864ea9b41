import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/tokens';
import { within } from '../infra/ops-auth';
import { RedisConnections } from '../infra/redis-connections';
import { WorkerHeartbeat } from '../infra/worker-heartbeat.service';
import { MongoHealth } from '../persistence/store-health';

/** How long one check may take before it counts as failed (a worker's Redis commands would wait forever). */
const CHECK_TIMEOUT_MS = 2000;

export interface CheckResult {
  status: 'ok' | 'failed';
  /** Why it failed, in words an operator can act on (no addresses, no credentials). */
  reason?: string;
}

/** The readiness answer: ready when every check passed; the checks by name, so a failure says which. */
export interface Readiness {
  status: 'ok' | 'unavailable';
  checks: Record<string, CheckResult>;
}

export type Check = () => Promise<void>;

/** Whether this process can do its work: the stores answer and, for the api, some worker is alive. */
@Injectable()
export class HealthService {
  constructor(
    private readonly mongo: MongoHealth,
    private readonly redis: RedisConnections,
    private readonly heartbeat: WorkerHeartbeat,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The stores both roles need. */
  storeChecks(): Record<string, Check> {
    return { redis: () => this.redis.ping(), mongodb: () => this.mongo.ping() };
  }

  /** A worker beat within WORKER_HEARTBEAT_S × 3 (the key lapses after that). */
  workerCheck(): Check {
    return async () => {
      const latest = await this.heartbeat.latest();
      if (latest === null) throw new Error(`no worker heartbeat within ${this.config.workerHeartbeatS * 3} s`);
    };
  }

  async readiness(checks: Record<string, Check>): Promise<Readiness> {
    const entries = Object.entries(checks);
    const results = await Promise.allSettled(entries.map(([n, check]) => within(CHECK_TIMEOUT_MS, n, check())));
    const out = Object.fromEntries(
      entries.map(([name], i): [string, CheckResult] => {
        const r = results[i];
        return [
          name,
          r.status === 'fulfilled' ? { status: 'ok' } : { status: 'failed', reason: reasonOf(name, r.reason) },
        ];
      }),
    );
    return { status: results.every((r) => r.status === 'fulfilled') ? 'ok' : 'unavailable', checks: out };
  }
}

/** Driver messages may name hosts or users; only our own messages (the worker check, timeouts) are shown as they are. */
function reasonOf(name: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'worker' || message.includes('did not answer within')) return message;
  return `${name} is not reachable`;
}
