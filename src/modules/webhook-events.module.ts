import { Global, Module } from '@nestjs/common';
import { WebhookDirectory } from '../application/webhook-directory.service';
import { WebhookDispatcher } from '../application/webhook-dispatcher.service';

/** Webhook events out of terminal transitions, for both roles (the worker finishes calls, the api cancels them). */
@Global()
@Module({ providers: [WebhookDispatcher, WebhookDirectory], exports: [WebhookDispatcher, WebhookDirectory] })
export class WebhookEventsModule {}
