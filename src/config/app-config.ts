/**
 * The one place that reads the environment. Every value is validated once at boot; a bad value
 * stops the process with a message naming the variable, what was expected and what was given.
 */

import type { PriceTable } from '../domain/pricing';
import type { Route } from '../domain/routing';
import {
  type Env,
  parseApiKeys,
  parseClusterNodes,
  parsePriceTable,
  parseTrustProxy,
  Reader,
  type RedisNode,
} from './env';
import { parseUpstreams } from './upstreams';

export type Role = 'api' | 'worker' | 'tool';
export type { RedisNode } from './env';

export interface UpstreamTimeouts {
  /** undici's headersTimeout/bodyTimeout; its 300 s defaults would cut long generations. */
  timeoutMs: number;
  connectTimeoutMs: number;
}

export interface AppConfig {
  role: Role;
  port: number;
  /** Address the api listens on; every interface when unset (containers), 127.0.0.1 for `npm run local`. */
  host: string | undefined;
  redisUrl: string;
  /** REDIS_CLUSTER_NODES: the seed nodes of a Redis Cluster, used instead of REDIS_URL (empty: a single Redis). */
  redisClusterNodes: RedisNode[];
  mongodbUri: string;
  /** The upstream routes, in order: a model goes to the first whose `models` match, the next ones are its failover. */
  routes: Route[];
  upstreamTimeouts: UpstreamTimeouts;
  /** How often workers re-read the model lists of wildcard routes (GET /v1/models); a list lapses after 3 of these. */
  modelsRefreshMs: number;
  /** Every configured upstream key, to remove from upstream error text before it is logged, stored or served. */
  upstreamSecrets: string[];
  /** Bootstrap keys from API_KEYS: secret -> userId. */
  apiKeys: ReadonlyMap<string, string>;
  workerConcurrency: number;
  /**
   * Slots of each worker process one key may not take while it holds the rest: kept for other keys' calls, since a
   * running call cannot be preempted (ignored when WORKER_CONCURRENCY leaves no room for it).
   */
  workerReservedSlots: number;
  /** Attempts per job, the first included; transient upstream failures use the rest. */
  jobAttempts: number;
  /** How long a synchronous (non-background) request waits for its job before answering 504. */
  syncTimeoutMs: number;
  /** BullMQ key prefix; lets several deployments or test runs share one Redis. */
  queuePrefix: string;
  logLevel: string;
  /** LOG_FORMAT: one JSON object per line (default), or pino-pretty's coloured lines for people. */
  logFormat: 'json' | 'pretty';
  /** Bearer token /metrics requires (ADMIN_TOKEN is accepted too); unset: /metrics is open. */
  metricsToken: string | undefined;
  /** The worker's operations-only HTTP port (/metrics, /health/live, /health/ready); 0 turns it off. */
  workerHttpPort: number;
  /** How often a worker writes its heartbeat to Redis; the api's readiness wants one within 3 of these. */
  workerHeartbeatS: number;
  /** Express "trust proxy" setting, used for the client IP recorded as reqIp. */
  trustProxy: boolean | number | string;
  /** How often a worker re-reads the durable cancel flag while an upstream call runs. */
  cancelPollMs: number;
  /** First retry wait for transient upstream failures; doubles per attempt, with jitter. */
  retryBaseMs: number;
  /** Largest request body accepted, in bytes (413 above it). */
  bodyLimitBytes: number;
  /** How long a background `store: false` call stays readable after it ended, before it is removed. */
  ephemeralRetentionS: number;
  /** The `openai-poll-after-ms` hint on reads of unfinished calls. */
  pollAfterMs: number;
  /** How long a finished call's event log stays replayable from Redis. */
  eventLogRetentionS: number;
  /** SSE streams a key may have open at once, across replicas (429 beyond). */
  maxStreamsPerKey: number;
  /** Most bytes one call's event log takes in Redis; output beyond it reaches clients in the final event only. */
  eventLogMaxBytes: number;
  /** Interval of SSE comment heartbeats on open streams. */
  sseHeartbeatMs: number;
  /** How long a key lookup is cached; the bound on a revoked key still working if a bus notice is lost. */
  keyCacheTtlMs: number;
  /** Bearer token of the admin API (/admin/keys); unset disables it. */
  adminToken: string | undefined;
  /** Default per-key limits: model calls accepted per minute, and calls in flight at once. */
  rateLimitRpm: number;
  rateLimitConcurrency: number;
  /** BullMQ lock of a running job; a crashed worker's jobs return after it lapses and a stall check runs. */
  workerLockMs: number;
  workerStalledIntervalMs: number;
  /** Stalls (crashes while running) a job survives before it is failed for good. */
  workerMaxStalled: number;
  /** On SIGTERM, how long running jobs may finish before they are handed back to the queue. */
  workerShutdownGraceMs: number;
  /** On SIGTERM, how long the api lets open requests and streams finish. */
  apiShutdownGraceMs: number;
  /** Recovery sweep: how often, and how old an unfinished call must be to be checked. */
  sweepIntervalMs: number;
  sweepAgeMs: number;
  /** How long a worker keeps retrying a result write while MongoDB is away. */
  storeWriteRetryMs: number;
  /** Coins per million tokens by model, for costCoins; unknown models cost 0 (with a warning). */
  priceTable: PriceTable;
  webhooks: WebhookConfig;
}

export interface WebhookConfig {
  /** The global endpoint (WEBHOOK_URL), for every user's background calls; null when unset. */
  url: string | null;
  /** Its secrets, current first (WEBHOOK_SECRET, then WEBHOOK_SECRET_PREVIOUS during a rotation). */
  secrets: string[];
  /** How long deliveries are retried, and the first retry wait (doubling, jitter, capped at an hour). */
  retryHours: number;
  retryBaseMs: number;
  /** An attempt without a 2xx within this is a failure. */
  timeoutMs: number;
  /** Deliveries sent at once per worker process (apart from the model-call slots). */
  concurrency: number;
  /** After a per-endpoint rotation, how long the old secret keeps signing too. */
  rotationGraceS: number;
  /** How often each process re-reads which users have endpoints (changes are also announced on the bus). */
  directoryRefreshMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: Env, role: Role): AppConfig {
  const problems: string[] = [];
  const r = new Reader(env, problems);

  const redisClusterNodes = parseClusterNodes(env.REDIS_CLUSTER_NODES, problems);
  const config: AppConfig = {
    role,
    port: r.int('PORT', { def: 3000, min: 1, max: 65535 }),
    host: r.match('HOST', /^[A-Za-z0-9.:[\]-]{1,255}$/, 'a host name or IP address', '') || undefined,
    redisUrl: r.url('REDIS_URL', ['redis:', 'rediss:'], {
      required: role !== 'tool' && redisClusterNodes.length === 0,
    }),
    redisClusterNodes,
    mongodbUri: r.url('MONGODB_URI', ['mongodb:', 'mongodb+srv:'], { required: true }),
    routes: parseUpstreams(env, role, problems),
    upstreamTimeouts: {
      timeoutMs: r.int('UPSTREAM_TIMEOUT_MS', { def: 600_000, min: 1000, max: 24 * 3600_000 }),
      connectTimeoutMs: r.int('UPSTREAM_CONNECT_TIMEOUT_MS', { def: 10_000, min: 100, max: 600_000 }),
    },
    modelsRefreshMs: r.int('MODELS_REFRESH_MS', { def: 300_000, min: 1000, max: 24 * 3600_000 }),
    upstreamSecrets: [],
    apiKeys: parseApiKeys(env.API_KEYS, role === 'api', problems),
    workerConcurrency: r.int('WORKER_CONCURRENCY', { def: 10, min: 1, max: 1000 }),
    workerReservedSlots: r.int('WORKER_RESERVED_SLOTS', { def: 1, min: 0, max: 999 }),
    jobAttempts: r.int('JOB_ATTEMPTS', { def: 4, min: 1, max: 50 }),
    syncTimeoutMs: r.int('SYNC_TIMEOUT_MS', { def: 600_000, min: 1000, max: 24 * 3600_000 }),
    queuePrefix: r.match('QUEUE_PREFIX', /^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and _ . : - (at most 64)', 'djq'),
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: r.oneOf('LOG_FORMAT', ['json', 'pretty'], 'json') as 'json' | 'pretty',
    metricsToken: r.secret('METRICS_TOKEN', 16),
    workerHttpPort: r.int('WORKER_HTTP_PORT', { def: 9464, min: 0, max: 65535 }),
    workerHeartbeatS: r.int('WORKER_HEARTBEAT_S', { def: 10, min: 1, max: 3600 }),
    trustProxy: parseTrustProxy(env.TRUST_PROXY, problems),
    cancelPollMs: r.int('CANCEL_POLL_MS', { def: 5000, min: 100, max: 600_000 }),
    retryBaseMs: r.int('RETRY_BASE_MS', { def: 1000, min: 1, max: 600_000 }),
    priceTable: parsePriceTable(env.PRICE_TABLE, problems),
    workerLockMs: r.int('WORKER_LOCK_MS', { def: 30_000, min: 1000, max: 3600_000 }),
    workerStalledIntervalMs: r.int('WORKER_STALLED_INTERVAL_MS', { def: 15_000, min: 500, max: 3600_000 }),
    workerMaxStalled: r.int('WORKER_MAX_STALLED', { def: 2, min: 1, max: 100 }),
    workerShutdownGraceMs: r.int('WORKER_SHUTDOWN_GRACE_MS', { def: 25_000, min: 0, max: 3600_000 }),
    apiShutdownGraceMs: r.int('API_SHUTDOWN_GRACE_MS', { def: 25_000, min: 0, max: 3600_000 }),
    sweepIntervalMs: r.int('SWEEP_INTERVAL_MS', { def: 60_000, min: 100, max: 24 * 3600_000 }),
    sweepAgeMs: r.int('SWEEP_AGE_MS', { def: 120_000, min: 100, max: 7 * 24 * 3600_000 }),
    storeWriteRetryMs: r.int('STORE_WRITE_RETRY_MS', { def: 300_000, min: 0, max: 24 * 3600_000 }),
    keyCacheTtlMs: r.int('KEY_CACHE_TTL_MS', { def: 5000, min: 0, max: 3600_000 }),
    adminToken: r.secret('ADMIN_TOKEN', 16),
    rateLimitRpm: r.int('RATE_LIMIT_RPM', { def: 60, min: 1, max: 10_000_000 }),
    rateLimitConcurrency: r.int('RATE_LIMIT_CONCURRENCY', { def: 16, min: 1, max: 1_000_000 }),
    eventLogRetentionS: r.int('EVENT_LOG_RETENTION_S', { def: 3600, min: 1, max: 30 * 24 * 3600 }),
    ephemeralRetentionS: r.int('EPHEMERAL_RETENTION_S', { def: 600, min: 1, max: 7 * 24 * 3600 }),
    pollAfterMs: r.int('POLL_AFTER_MS', { def: 1000, min: 0, max: 600_000 }),
    maxStreamsPerKey: r.int('MAX_STREAMS_PER_KEY', { def: 20, min: 1, max: 100_000 }),
    eventLogMaxBytes: r.int('EVENT_LOG_MAX_BYTES', { def: 8 * 1024 * 1024, min: 64 * 1024, max: 256 * 1024 * 1024 }),
    sseHeartbeatMs: r.int('SSE_HEARTBEAT_MS', { def: 15_000, min: 100, max: 600_000 }),
    bodyLimitBytes: r.int('BODY_LIMIT_BYTES', { def: 12 * 1024 * 1024, min: 1024, max: 512 * 1024 * 1024 }),
    webhooks: readWebhooks(r, problems),
  };

  if (problems.length > 0) throw new ConfigError(problems);
  config.upstreamSecrets = config.routes.flatMap((route) => (route.apiKey ? [route.apiKey] : []));
  return config;
}

/** `whsec_` and base64 of at least 16 bytes: the form OpenAI's secrets and the SDK's verifier use. */
const WHSEC = /^whsec_[A-Za-z0-9+/]{22,}={0,2}$/;

function readWebhooks(r: Reader, problems: string[]): WebhookConfig {
  const url = r.url('WEBHOOK_URL', ['http:', 'https:'], { required: false });
  const secret = r.str('WEBHOOK_SECRET');
  const previous = r.str('WEBHOOK_SECRET_PREVIOUS');
  for (const [name, value] of [
    ['WEBHOOK_SECRET', secret],
    ['WEBHOOK_SECRET_PREVIOUS', previous],
  ] as const) {
    // Only the length is echoed: the value is a secret.
    if (value !== undefined && !WHSEC.test(value))
      problems.push(
        `${name} must look like whsec_<base64 of at least 16 bytes> (got a value of ${value.length} characters)`,
      );
  }
  if (url) {
    let credentials = false;
    try {
      const parsed = new URL(url);
      credentials = parsed.username !== '' || parsed.password !== '';
    } catch {
      credentials = false;
    }
    if (credentials) problems.push('WEBHOOK_URL must not carry credentials');
    if (!secret) problems.push('WEBHOOK_SECRET is required with WEBHOOK_URL (whsec_<base64>)');
  }
  return {
    url: url || null,
    secrets: [secret, previous].filter((s): s is string => s !== undefined),
    retryHours: r.int('WEBHOOK_RETRY_HOURS', { def: 72, min: 1, max: 30 * 24 }),
    retryBaseMs: r.int('WEBHOOK_RETRY_BASE_MS', { def: 5000, min: 1, max: 3600_000 }),
    timeoutMs: r.int('WEBHOOK_TIMEOUT_MS', { def: 10_000, min: 100, max: 600_000 }),
    concurrency: r.int('WEBHOOK_CONCURRENCY', { def: 10, min: 1, max: 1000 }),
    rotationGraceS: r.int('WEBHOOK_ROTATION_GRACE_S', { def: 86_400, min: 0, max: 30 * 24 * 3600 }),
    directoryRefreshMs: r.int('WEBHOOK_DIRECTORY_REFRESH_MS', { def: 10_000, min: 100, max: 3600_000 }),
  };
}
