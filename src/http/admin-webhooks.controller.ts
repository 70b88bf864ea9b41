import { Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { WebhookAdminService } from '../application/webhook-admin.service';
import type { Validated } from '../domain/request-context';
import {
  createWebhookSchema,
  deliveryListQuerySchema,
  updateWebhookSchema,
  type WebhookFields,
  webhookListQuerySchema,
} from '../domain/requests/webhooks.request';
import type { WebhookEndpointView } from '../domain/webhooks';
import { AdminGuard } from './admin.guard';
import { ValidBody, ValidQuery } from './validated';

@Controller('admin/webhooks')
@UseGuards(AdminGuard)
export class AdminWebhooksController {
  constructor(private readonly webhooks: WebhookAdminService) {}

  /** Creates an endpoint; the answer carries its signing secret, shown only here (and on a rotation). */
  @Post()
  @HttpCode(200)
  create(
    @ValidBody(createWebhookSchema) body: Validated<WebhookFields>,
  ): Promise<WebhookEndpointView & { secret: string }> {
    return this.webhooks.create(body.value);
  }

  @Get()
  async list(@ValidQuery(webhookListQuerySchema) query: { user_id?: string }) {
    return { object: 'list' as const, data: await this.webhooks.list(query.user_id) };
  }

  @Post(':id')
  @HttpCode(200)
  update(@Param('id') id: string, @ValidBody(updateWebhookSchema) body: Validated<WebhookFields>) {
    return this.webhooks.update(id, body.value);
  }

  @Delete(':id')
  @HttpCode(200)
  delete(@Param('id') id: string) {
    return this.webhooks.delete(id);
  }

  @Get(':id/deliveries')
  async deliveries(@Param('id') id: string, @ValidQuery(deliveryListQuerySchema) query: { limit?: number }) {
    return { object: 'list' as const, data: await this.webhooks.deliveriesOf(id, query.limit) };
  }
}
