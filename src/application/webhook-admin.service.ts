import { Inject, Injectable, Optional } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/tokens';
import { AppError } from '../domain/errors';
import { newId } from '../domain/ids';
import type { WebhookFields } from '../domain/requests/webhooks.request';
import { BusChannel } from '../infra/jobs';
import { RedisBus } from '../infra/redis-bus.service';
import { GLOBAL_ENDPOINT_ID, toDeliveryView, toEndpointView, type WebhookEndpointView } from '../domain/webhooks';
import {
  type EndpointChanges,
  WebhookDeliveriesRepository,
  WebhookEndpointsRepository,
} from '../persistence/webhooks.repository';

/** A new signing secret in the form OpenAI's SDK verifies: `whsec_` and the base64 of 32 random bytes. */
const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * Per-user webhook endpoints for operators (admin API and CLI). The secret is answered by create and by a rotation
 * only; after a rotation the old secret also signs for WEBHOOK_ROTATION_GRACE_S. Input arrives validated
 * (domain/requests/webhooks.request).
 */
@Injectable()
export class WebhookAdminService {
  constructor(
    private readonly endpoints: WebhookEndpointsRepository,
    private readonly deliveries: WebhookDeliveriesRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    /** Null in the CLI without Redis: every process then sees the change at its next directory read. */
    @Optional() @Inject(RedisBus) private readonly bus: RedisBus | null = null,
  ) {}

  /** Tells every process's webhook directory (best-effort: each re-reads it every WEBHOOK_DIRECTORY_REFRESH_MS). */
  private async announce(): Promise<void> {
    await this.bus?.publish(BusChannel.WebhooksChanged, '1').catch(() => undefined);
  }

  async create(input: WebhookFields): Promise<WebhookEndpointView & { secret: string }> {
    const secret = newSecret();
    const record = await this.endpoints.insert({
      endpointId: newId('we_', 12),
      userId: input.user_id!,
      url: input.url!,
      events: input.events ?? [],
      enabled: true,
      secret,
      previousSecret: null,
      previousSecretUntil: null,
    });
    await this.announce();
    return { ...toEndpointView(record), secret };
  }

  async list(userId?: string): Promise<WebhookEndpointView[]> {
    return (await this.endpoints.list(userId)).map(toEndpointView);
  }

  /** Changes url, events or enabled; `rotate_secret` answers the new secret (the old one keeps signing a while). */
  async update(id: string, input: WebhookFields): Promise<WebhookEndpointView & { secret?: string }> {
    const current = await this.endpoints.findById(id);
    if (!current) throw notFound(id);
    const changes: EndpointChanges = {};
    if (input.url !== undefined) changes.url = input.url;
    if (input.events !== undefined) changes.events = input.events;
    if (input.enabled !== undefined) changes.enabled = input.enabled;
    let secret: string | undefined;
    if (input.rotate_secret) {
      secret = newSecret();
      changes.secret = secret;
      changes.previousSecret = current.secret;
      changes.previousSecretUntil = new Date(Date.now() + this.config.webhooks.rotationGraceS * 1000);
    }
    const updated = await this.endpoints.update(id, changes);
    if (!updated) throw notFound(id);
    await this.announce();
    return secret ? { ...toEndpointView(updated), secret } : toEndpointView(updated);
  }

  async delete(id: string): Promise<{ id: string; object: 'webhook_endpoint.deleted'; deleted: true }> {
    if (!(await this.endpoints.delete(id))) throw notFound(id);
    await this.announce();
    return { id, object: 'webhook_endpoint.deleted', deleted: true };
  }

  /** An endpoint's delivery log, newest first (`global`: the WEBHOOK_URL endpoint's). */
  async deliveriesOf(id: string, limit = 20): Promise<ReturnType<typeof toDeliveryView>[]> {
    const known = id === GLOBAL_ENDPOINT_ID ? this.config.webhooks.url !== null : await this.endpoints.findById(id);
    if (!known) throw notFound(id);
    return (await this.deliveries.listFor(id, limit)).map(toDeliveryView);
  }
}

const notFound = (id: string) => AppError.notFound(`No webhook endpoint with id '${id}'.`);
