import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { AppConfig } from '../config/app-config';
import type { Logger } from './logger';
import { APP_CONFIG, LOGGER } from '../config/tokens';

/** A connection to a single Redis (REDIS_URL) or to a Redis Cluster (REDIS_CLUSTER_NODES); both take the same commands. */
export type RedisClient = Redis | Cluster;

/**
 * Every Redis connection of a process, made with one policy for its role:
 * - the api fails fast: a command gets one retry, and producers have no offline queue, so a request answers 503 at
 *   once while Redis is away instead of waiting for it;
 * - workers and tools wait: commands are retried until Redis is back.
 * Subscribers always queue (they resubscribe after a reconnect). One command connection per process serves the bus
 * publisher, the event log and the rate limiter; BullMQ makes its own from `bullmqConnection()`.
 * With REDIS_CLUSTER_NODES every one of them is an ioredis Cluster, with the same policy.
 */
@Injectable()
export class RedisConnections implements OnModuleDestroy {
  private readonly open: RedisClient[] = [];
  private shared?: RedisClient;
  private readonly log: Logger;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ ctx: 'Redis' });
  }

  /** Whether the connections go to a Redis Cluster: multi-key commands then need their keys in one slot. */
  get cluster(): boolean {
    return isCluster(this.config);
  }

  /** The process's command connection (lazy). */
  commands(): RedisClient {
    this.shared ??= this.connect('commands', commandOptions(this.config));
    return this.shared;
  }

  /** A connection of its own for pub/sub (a subscribed connection takes no other commands). */
  subscriber(name: string): RedisClient {
    return this.connect(name, { maxRetriesPerRequest: null });
  }

  async ping(): Promise<void> {
    const client = this.commands();
    if (client instanceof Cluster) {
      // Every master must answer: a cluster missing one serves only part of the keys.
      const masters = client.nodes('master');
      if (masters.length === 0) throw new Error('Redis Cluster has no reachable master');
      await Promise.all(masters.map((node) => node.ping()));
    } else await client.ping();
  }

  private connect(name: string, policy: Policy): RedisClient {
    const client = makeClient(this.config, policy, `${this.config.role}-${name}`);
    client.on('error', (err: Error) => this.log.warn({ err: err.message, connection: name }, 'redis connection error'));
    client.on('node error', (err: Error, node: string) =>
      this.log.warn({ err: err.message, connection: name, node }, 'redis cluster node error'),
    );
    this.open.push(client);
    return client;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled(this.open.map((c) => c.quit()));
  }
}

interface Policy {
  maxRetriesPerRequest: number | null;
  enableOfflineQueue?: boolean;
}

function commandOptions(config: AppConfig): Policy {
  return config.role === 'api'
    ? { maxRetriesPerRequest: 1, enableOfflineQueue: false }
    : { maxRetriesPerRequest: null };
}

export function isCluster(config: AppConfig): boolean {
  return config.redisClusterNodes.length > 0;
}

/**
 * Cluster options, measured against a local three-master cluster: no ready check (it held connections back while a
 * node's INFO was pending). Roles that wait retry a CLUSTERDOWN every 300 ms with enough redirections for about 10 s of
 * it, so a master that restarts costs them waiting, not errors; the api gives up after a few hundred ms (a 503), as
 * it does on a single Redis. Redirections (MOVED, ASK during a resharding) are followed either way.
 */
function clusterOptions(policy: Policy, connectionName: string, lazyConnect = false): ClusterOptions {
  const failFast = policy.enableOfflineQueue === false;
  return {
    redisOptions: { maxRetriesPerRequest: policy.maxRetriesPerRequest, connectionName },
    enableOfflineQueue: !failFast,
    enableReadyCheck: false,
    retryDelayOnClusterDown: failFast ? 100 : 300,
    retryDelayOnFailover: failFast ? 100 : 200,
    maxRedirections: failFast ? 5 : 32,
    // The 1 s default timed out on a loaded machine, and a failed refresh drops nodes (the bus then re-reads).
    slotsRefreshTimeout: 3000,
    // Keep trying to reach the cluster (workers and subscribers wait for it); the api fails commands meanwhile.
    clusterRetryStrategy: (times: number) => Math.min(100 * times, 2000),
    lazyConnect,
  };
}

function makeClient(config: AppConfig, policy: Policy, connectionName: string): RedisClient {
  if (isCluster(config)) return new Cluster(config.redisClusterNodes, clusterOptions(policy, connectionName));
  const options: RedisOptions = { ...policy, connectionName };
  return new Redis(config.redisUrl, options);
}

/**
 * BullMQ's key prefix. On a cluster it is hash-tagged (`{djq}`), so every key of a queue is in one slot, as BullMQ's
 * Lua scripts need; on a single Redis it is QUEUE_PREFIX as it is (key names unchanged).
 */
export function bullmqPrefix(config: AppConfig): string {
  return isCluster(config) ? `{${config.queuePrefix}}` : config.queuePrefix;
}

/** What BullMQ connects with: options on a single Redis, a Cluster client on a cluster (BullMQ needs the instance). */
export type BullmqConnection = (Policy & { url: string; connectionName: string }) | Cluster;

/**
 * BullMQ's connection for queues (producers, with the command policy) and workers (consumers, which wait). On a
 * cluster this is a client the caller closes after the queue (a Queue shares it); a Worker only copies it, so the
 * worker's is made lazy and never connects itself.
 */
export function bullmqConnection(config: AppConfig, purpose: 'queue' | 'worker', name?: string): BullmqConnection {
  const options: Policy = purpose === 'worker' ? { maxRetriesPerRequest: null } : commandOptions(config);
  const connectionName = name ?? `${config.role}-${purpose}`;
  if (isCluster(config))
    return new Cluster(config.redisClusterNodes, clusterOptions(options, connectionName, purpose === 'worker'));
  return { url: config.redisUrl, ...options, connectionName };
}
