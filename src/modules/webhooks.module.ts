import { Module } from '@nestjs/common';
import { WebhookAdminService } from '../application/webhook-admin.service';
import { AdminWebhooksController } from '../http/admin-webhooks.controller';

/** The admin API of per-user webhook endpoints and their delivery logs (behind the admin guard). */
@Module({ controllers: [AdminWebhooksController], providers: [WebhookAdminService] })
export class WebhooksModule {}
