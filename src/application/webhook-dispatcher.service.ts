import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG, LOGGER } from '../config/tokens';
import { type CallRecord, keyOf, type OwedEvent } from '../domain/call';
import { newId } from '../domain/ids';
import { deliveryIdOf, endpointWants, eventTypeOf, GLOBAL_ENDPOINT_ID, owedEventChanges } from '../domain/webhooks';
import { JobProducer } from '../infra/job-producer.service';
import type { Logger } from '../infra/logger';
import { WebhookDeliveriesRepository, WebhookEndpointsRepository } from '../persistence/webhooks.repository';
import type { CallKind } from './call-kinds';
import { WebhookDirectory } from './webhook-directory.service';

/**
 * Turns a won terminal transition into webhook deliveries. The transition itself records the event the call owes
 * (`owed`, in the same conditional update, so only the winner owes one); `dispatch` then writes a delivery per
 * endpoint (idempotent), enqueues it under a stable job id, and clears the debt. Whatever stops in between, the
 * recovery sweep dispatches again: every step can be repeated without a second event.
 */
@Injectable()
export class WebhookDispatcher {
  private readonly log: Logger;

  constructor(
    private readonly endpoints: WebhookEndpointsRepository,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly producer: JobProducer,
    private readonly directory: WebhookDirectory,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ ctx: 'WebhookDispatcher' });
  }

  /**
   * The fields a terminal transition adds: a background call owes an event (a new id, its time), unless its user
   * has no endpoint to send it to (and there is no WEBHOOK_URL); then it costs no webhook round trip at all.
   */
  owed(background: boolean, userId: string): { webhookEvent?: OwedEvent; webhookPending?: boolean } {
    return owedEventChanges(background && this.directory.mayWant(userId), newId('evt_'));
  }

  /**
   * Enqueues the deliveries a record's event owes; never throws (a failure leaves the debt on the record, and the
   * recovery sweep dispatches it later).
   */
  async dispatch<R extends CallRecord>(kind: CallKind<R>, record: R): Promise<void> {
    try {
      await this.dispatchOrThrow(kind, record);
    } catch (err) {
      this.log.warn(
        { id: record.responseId, err: (err as Error).message },
        'webhook deliveries not enqueued yet; the recovery sweep will',
      );
    }
  }

  /** The same, for the sweep: failures throw. Returns how many deliveries were enqueued. */
  async dispatchOrThrow<R extends CallRecord>(kind: CallKind<R>, record: R): Promise<number> {
    const event = record.webhookEvent;
    if (!record.webhookPending || !event) return 0;
    const type = eventTypeOf(kind.webhookSubject, record.status);
    let sent = 0;
    if (type) {
      const targets = (await this.endpoints.enabledFor(record.userId))
        .filter((e) => endpointWants(e, type))
        .map((e) => e.endpointId);
      if (this.config.webhooks.url) targets.push(GLOBAL_ENDPOINT_ID);
      const createdAt = Math.floor(new Date(event.at).getTime() / 1000);
      for (const endpointId of targets) {
        const deliveryId = deliveryIdOf(event.id, endpointId);
        await this.deliveries.ensure({
          deliveryId,
          endpointId,
          userId: record.userId,
          eventId: event.id,
          eventType: type,
          subjectId: record.responseId,
          eventCreatedAt: createdAt,
          nextAttemptAt: new Date(),
        });
        await this.producer.enqueueDelivery({ deliveryId, endpointId, eventId: event.id });
        sent++;
      }
    }
    await kind.repo.clearWebhookPending(keyOf(record));
    return sent;
  }

  /**
   * SYSTEM USE ONLY (the recovery sweep): pending deliveries long past their due time whose job is gone (Redis lost
   * it) are enqueued again under the same id. Returns how many.
   */
  async requeueOverdue(before: Date, limit: number): Promise<number> {
    let requeued = 0;
    for (const d of await this.deliveries.findOverdue(before, limit)) {
      if (await this.producer.hasLiveDelivery(d.deliveryId)) continue;
      // A finished job under that id would make the add a no-op.
      await this.producer.removeDelivery(d.deliveryId).catch(() => undefined);
      await this.producer.enqueueDelivery({ deliveryId: d.deliveryId, endpointId: d.endpointId, eventId: d.eventId });
      requeued++;
      this.log.warn({ deliveryId: d.deliveryId }, 'pending webhook delivery had no job; enqueued again');
    }
    return requeued;
  }
}
