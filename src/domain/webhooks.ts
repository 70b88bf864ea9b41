/**
 * Completion webhooks: the events, their thin payload (as OpenAI sends them), endpoints and the delivery log. Pure:
 * the signing itself and the HTTP send are the worker's.
 */
import { createHash } from 'node:crypto';
import type { CallStatus, OwedEvent } from './call';

export const RESPONSE_EVENT_TYPES = [
  'response.completed',
  'response.failed',
  'response.cancelled',
  'response.incomplete',
] as const;
export const CHAT_EVENT_TYPES = [
  'chat.completion.completed',
  'chat.completion.failed',
  'chat.completion.cancelled',
] as const;
export const WEBHOOK_EVENT_TYPES: readonly string[] = [...RESPONSE_EVENT_TYPES, ...CHAT_EVENT_TYPES];
export type WebhookEventType = (typeof RESPONSE_EVENT_TYPES)[number] | (typeof CHAT_EVENT_TYPES)[number];

/** Which family of events a kind of call sends. */
export type WebhookSubject = 'response' | 'chat.completion';

/** The event a terminal status sends; null when there is none (a chat job has no `incomplete` event). */
export function eventTypeOf(subject: WebhookSubject, status: CallStatus): WebhookEventType | null {
  if (subject === 'response') {
    const t = `response.${status}`;
    return (RESPONSE_EVENT_TYPES as readonly string[]).includes(t) ? (t as WebhookEventType) : null;
  }
  // A chat job cut by its token limit still completed (finish_reason "length").
  const s = status === 'incomplete' ? 'completed' : status;
  const t = `chat.completion.${s}`;
  return (CHAT_EVENT_TYPES as readonly string[]).includes(t) ? (t as WebhookEventType) : null;
}

/** The fields a terminal transition sets for a background call: the event it owes. */
export function owedEventChanges(
  background: boolean,
  eventId: string,
  at = new Date(),
): { webhookEvent?: OwedEvent; webhookPending?: boolean } {
  return background ? { webhookEvent: { id: eventId, at }, webhookPending: true } : {};
}

/** The thin event body. Serialized once, the same way every time, so each attempt sends the same bytes. */
export function eventBody(d: { eventId: string; type: string; createdAt: number; subjectId: string }): string {
  return JSON.stringify({
    object: 'event',
    id: d.eventId,
    type: d.type,
    created_at: d.createdAt,
    data: { id: d.subjectId },
  });
}

/** The `webhook-id` of one event at one endpoint: stable across its retries and re-enqueues (derived, not stored). */
export function webhookIdOf(eventId: string, endpointId: string): string {
  return `wh_${createHash('sha256').update(`${eventId}\u0000${endpointId}`).digest('hex').slice(0, 32)}`;
}

/** One delivery's id (also its BullMQ job id: no ':' in it). */
export const deliveryIdOf = (eventId: string, endpointId: string): string => `${eventId}.${endpointId}`;

/** The endpoint of WEBHOOK_URL, for every user's calls; its secret comes from the config. */
export const GLOBAL_ENDPOINT_ID = 'global';

export interface WebhookEndpointRecord {
  endpointId: string;
  userId: string;
  url: string;
  /** Event types sent there; empty: all of them. */
  events: string[];
  enabled: boolean;
  /** `whsec_<base64>`; kept readable because it signs (it cannot be hashed). Never in a view, a log or Redis. */
  secret: string;
  /** After a rotation, the old secret also signs until `previousSecretUntil`. */
  previousSecret: string | null;
  previousSecretUntil: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface WebhookEndpointView {
  id: string;
  object: 'webhook_endpoint';
  user_id: string;
  url: string;
  events: string[];
  enabled: boolean;
  created_at: number;
  /** When the previous secret stops signing (after a rotation), else null. */
  previous_secret_expires_at: number | null;
}

export const toEndpointView = (e: WebhookEndpointRecord): WebhookEndpointView => ({
  id: e.endpointId,
  object: 'webhook_endpoint',
  user_id: e.userId,
  url: e.url,
  events: e.events,
  enabled: e.enabled,
  created_at: Math.floor(new Date(e.createdAt).getTime() / 1000),
  previous_secret_expires_at:
    e.previousSecretUntil && new Date(e.previousSecretUntil).getTime() > Date.now()
      ? Math.floor(new Date(e.previousSecretUntil).getTime() / 1000)
      : null,
});

/** Whether an endpoint takes an event type. */
export const endpointWants = (e: Pick<WebhookEndpointRecord, 'events' | 'enabled'>, type: string): boolean =>
  e.enabled && (e.events.length === 0 || e.events.includes(type));

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveryRecord {
  deliveryId: string;
  endpointId: string;
  userId: string;
  eventId: string;
  eventType: string;
  /** The call the event is about (`data.id`). */
  subjectId: string;
  /** The event's created_at, in seconds. */
  eventCreatedAt: number;
  status: DeliveryStatus;
  attempts: number;
  lastHttpStatus: number | null;
  lastError: string | null;
  /** When the next attempt is due (the recovery sweep re-enqueues a pending delivery long past it). */
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const toDeliveryView = (d: WebhookDeliveryRecord) => ({
  id: d.deliveryId,
  object: 'webhook_delivery' as const,
  endpoint_id: d.endpointId,
  event_id: d.eventId,
  event_type: d.eventType,
  data_id: d.subjectId,
  webhook_id: webhookIdOf(d.eventId, d.endpointId),
  status: d.status,
  attempts: d.attempts,
  last_http_status: d.lastHttpStatus,
  last_error: d.lastError,
  next_retry_at:
    d.status === 'pending' && d.nextAttemptAt ? Math.floor(new Date(d.nextAttemptAt).getTime() / 1000) : null,
  delivered_at: d.deliveredAt ? Math.floor(new Date(d.deliveredAt).getTime() / 1000) : null,
  created_at: Math.floor(new Date(d.createdAt).getTime() / 1000),
});

/** URL rules: http or https, no user name or password in it. A reason when refused, else null. */
export function webhookUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http:// or https:// URL';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  if (raw.length > 2048) return 'must be at most 2048 characters';
  return null;
}

/** Retry schedule: the first retry after `baseMs`, doubling, each at most RETRY_CAP_MS. */
export const RETRY_CAP_MS = 3600_000;

/** The wait before retry number `n` (1 = the first retry), with ±20% jitter so endpoints that failed together spread. */
export function webhookRetryDelay(n: number, baseMs: number, random = Math.random): number {
  const plain = Math.min(baseMs * 2 ** Math.min(Math.max(n - 1, 0), 40), RETRY_CAP_MS);
  return Math.round(plain * (0.8 + 0.4 * random()));
}

/** Attempts (the first included) whose waits, without jitter, fit in `hours`. */
export function webhookAttempts(baseMs: number, hours: number): number {
  const window = hours * 3600_000;
  let spent = 0;
  let attempts = 1;
  for (let n = 1; attempts < 10_000; n++) {
    const next = Math.min(baseMs * 2 ** Math.min(n - 1, 40), RETRY_CAP_MS);
    if (spent + next > window) break;
    spent += next;
    attempts++;
  }
  return attempts;
}
