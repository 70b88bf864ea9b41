import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG, LOGGER } from '../config/tokens';
import {
  eventBody,
  GLOBAL_ENDPOINT_ID,
  type WebhookDeliveryRecord,
  webhookIdOf,
  webhookRetryDelay,
} from '../domain/webhooks';
import type { DeliverWebhookPayload } from '../infra/jobs';
import type { Logger } from '../infra/logger';
import { WebhookDeliveriesRepository, WebhookEndpointsRepository } from '../persistence/webhooks.repository';

/** At most this much of a receiver's answer is read (it is only looked at for the log). */
const MAX_ANSWER_BYTES = 4096;
const USER_AGENT = 'durable-openai-jobs-webhooks/1.0';

export type AttemptOutcome =
  | { kind: 'delivered' | 'skipped' | 'failed' }
  /** Not delivered this time; BullMQ retries with the webhook backoff. */
  | { kind: 'retry'; error: string };

/** Where a delivery goes and the secrets that sign it (current first), read at send time. */
interface Target {
  url: string;
  secrets: string[];
}

/**
 * One delivery attempt: re-reads the delivery (MongoDB is the truth; a delivered one is skipped), signs the event per
 * Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
 * id.timestamp.body>`, one signature per live secret), POSTs it without following redirects, and records the outcome.
 * A 2xx within WEBHOOK_TIMEOUT_MS is success; anything else is retried until WEBHOOK_RETRY_HOURS are spent.
 */
@Injectable()
export class WebhookDelivery implements OnModuleDestroy {
  private readonly log: Logger;
  private readonly agent: Agent;

  constructor(
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly endpoints: WebhookEndpointsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ ctx: 'WebhookDelivery' });
    const t = config.webhooks.timeoutMs;
    this.agent = new Agent({ connect: { timeout: t }, headersTimeout: t, bodyTimeout: t });
  }

  /** `attempt` counts from 1; `maxAttempts` is the job's. */
  async attempt(p: DeliverWebhookPayload, attempt: number, maxAttempts: number): Promise<AttemptOutcome> {
    const d = await this.deliveries.find(p.deliveryId);
    if (!d || d.status !== 'pending') return { kind: 'skipped' };
    const target = await this.target(d.endpointId);
    if (!target) {
      await this.deliveries.recordAttempt(d.deliveryId, {
        status: 'failed',
        lastHttpStatus: null,
        lastError: 'the endpoint was deleted or disabled',
        nextAttemptAt: null,
        deliveredAt: null,
      });
      return { kind: 'failed' };
    }
    const result = await this.send(d, target);
    const log = this.log.child({ deliveryId: d.deliveryId, attempt });
    if (result.ok) {
      await this.deliveries.recordAttempt(d.deliveryId, {
        status: 'delivered',
        lastHttpStatus: result.status,
        lastError: null,
        nextAttemptAt: null,
        deliveredAt: new Date(),
      });
      log.info({ status: result.status }, 'webhook delivered');
      return { kind: 'delivered' };
    }
    // The next wait at its longest (jitter included): a retry that would land past the window is not made.
    const { retryBaseMs, retryHours } = this.config.webhooks;
    const nextWait = webhookRetryDelay(attempt, retryBaseMs, () => 1);
    const windowEnds = d.eventCreatedAt * 1000 + retryHours * 3600_000;
    const final = attempt >= maxAttempts || Date.now() + nextWait > windowEnds;
    await this.deliveries.recordAttempt(d.deliveryId, {
      status: final ? 'failed' : 'pending',
      lastHttpStatus: result.status,
      lastError: result.error,
      nextAttemptAt: final ? null : new Date(Date.now() + nextWait),
      deliveredAt: null,
    });
    log.warn({ status: result.status, err: result.error, final }, 'webhook not delivered');
    return final ? { kind: 'failed' } : { kind: 'retry', error: result.error };
  }

  private async target(endpointId: string): Promise<Target | null> {
    if (endpointId === GLOBAL_ENDPOINT_ID) {
      const { url, secrets } = this.config.webhooks;
      return url ? { url, secrets } : null;
    }
    const e = await this.endpoints.findById(endpointId);
    if (!e || !e.enabled) return null;
    const graceOn = e.previousSecret && e.previousSecretUntil && new Date(e.previousSecretUntil).getTime() > Date.now();
    return { url: e.url, secrets: graceOn ? [e.secret, e.previousSecret!] : [e.secret] };
  }

  private async send(
    d: WebhookDeliveryRecord,
    target: Target,
  ): Promise<{ ok: true; status: number } | { ok: false; status: number | null; error: string }> {
    const body = eventBody({
      eventId: d.eventId,
      type: d.eventType,
      createdAt: d.eventCreatedAt,
      subjectId: d.subjectId,
    });
    const webhookId = webhookIdOf(d.eventId, d.endpointId);
    const at = new Date();
    // Several secrets during a rotation: one signature each, space-separated, as the spec allows.
    const signature = target.secrets.map((s) => new Webhook(s).sign(webhookId, at, body)).join(' ');
    const timeoutMs = this.config.webhooks.timeoutMs;
    try {
      // undici's request never follows redirects: a 3xx is an answer like any other non-2xx.
      const res = await request(target.url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          'webhook-id': webhookId,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await drain(res.body);
      const status = res.statusCode;
      if (status >= 200 && status < 300) return { ok: true, status };
      const what = status >= 300 && status < 400 ? `redirect (HTTP ${status}) not followed` : `HTTP ${status}`;
      return { ok: false, status, error: what };
    } catch (err) {
      const e = err as Error;
      const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError' || /timeout/i.test(e.name);
      return { ok: false, status: null, error: timedOut ? `no answer within ${timeoutMs} ms` : errorText(e) };
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }
}

/** Reads at most MAX_ANSWER_BYTES of an answer, then drops the connection's rest. */
async function drain(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<void> {
  let read = 0;
  try {
    for await (const chunk of body) {
      read += chunk.length;
      if (read >= MAX_ANSWER_BYTES) break;
    }
  } finally {
    body.destroy();
  }
}

/** A network error as the log shows it: its code and message, bounded. */
function errorText(e: Error): string {
  const cause = e.cause as { code?: string; message?: string } | undefined;
  const code = (e as { code?: string }).code ?? cause?.code;
  const text = `${code ? `${code}: ` : ''}${cause?.message ?? e.message}`;
  return text.slice(0, 300);
}
