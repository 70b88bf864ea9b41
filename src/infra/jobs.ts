/**
 * The closed job vocabulary: every queue, job name and payload in one place, so enqueueing the
 * wrong payload on a queue does not compile. Payloads carry ids (and a call that keeps nothing, itself).
 */

/**
 * Call jobs run on one queue per upstream route; both kinds of call share it, so a route's capacity (concurrency,
 * requests per minute, a pause after its 429) holds for all of its calls.
 */
export const callQueue = (route: string): string => `calls-${route}`;

/** The route of UPSTREAM_BASE_URL, and of every call before routes existed. */
export const DEFAULT_ROUTE = 'default';

/** Webhook deliveries have a queue of their own, with its own workers: they never take a model call's slot. */
export const WEBHOOK_QUEUE = 'webhooks';

export enum JobName {
  RunResponse = 'run-response',
  RunChatCompletion = 'run-chat-completion',
}

/** The job of the webhook queue. */
export enum WebhookJobName {
  Deliver = 'deliver-webhook',
}

/**
 * Every call job names its record by owner and id. A call that keeps nothing (domain/ephemeral) has no record while it
 * runs: it travels in `call`, and is removed with its job.
 */
export interface RunCallPayload {
  /** The record's public id (`resp_...`, `chatcmpl-...`), also the BullMQ jobId. */
  responseId: string;
  userId: string;
  /** The api request that created the job, so api and worker log lines join up. */
  requestId: string;
  /** The API key it came in with, so a worker can share its slots fairly between keys. */
  keyId?: string;
  /** Attempts made on other routes before this job took the call over (failover). */
  attemptsBefore?: number;
  /** The whole record of a synchronous store: false call (JSON; no MongoDB record exists while it runs). */
  call?: Record<string, unknown>;
}

/**
 * One event to one endpoint. The delivery's record (MongoDB) holds the rest; the endpoint's secret is read from
 * MongoDB (or the config) when it is sent, never carried here.
 */
export interface DeliverWebhookPayload {
  /** Also the BullMQ jobId: a second enqueue of the same delivery is a no-op. */
  deliveryId: string;
  endpointId: string;
  eventId: string;
}

export interface JobPayloads {
  [JobName.RunResponse]: RunCallPayload;
  [JobName.RunChatCompletion]: RunCallPayload;
}

/** Bus channels (Redis pub/sub) between api and workers. */
export enum BusChannel {
  /** api -> workers: the job with this id was cancelled; abort its upstream call. */
  Cancel = 'cancel',
  /** workers/api -> api: the call with this id reached a terminal state. */
  Terminal = 'terminal',
  /** admin -> api: the key with this hash changed (revoked, limits); drop cached copies. */
  KeyChanged = 'key-changed',
  /** admin -> api and workers: a webhook endpoint was created, changed or deleted; read the directory again. */
  WebhooksChanged = 'webhooks-changed',
}
