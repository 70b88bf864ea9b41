import { Schema } from 'mongoose';
import type { WebhookDeliveryRecord, WebhookEndpointRecord } from '../domain/webhooks';

export const WEBHOOK_ENDPOINT_MODEL = 'WebhookEndpointRecord';
export const WEBHOOK_DELIVERY_MODEL = 'WebhookDeliveryRecord';

export const WebhookEndpointSchema = new Schema<WebhookEndpointRecord>(
  {
    endpointId: { type: String, required: true },
    userId: { type: String, required: true },
    url: { type: String, required: true },
    events: { type: [String], default: [] },
    enabled: { type: Boolean, default: true },
    secret: { type: String, required: true },
    previousSecret: { type: String, default: null },
    previousSecretUntil: { type: Date, default: null },
  },
  { collection: 'webhook_endpoints', timestamps: true, minimize: false, versionKey: false },
);
WebhookEndpointSchema.index({ endpointId: 1 }, { unique: true });
WebhookEndpointSchema.index({ userId: 1, createdAt: 1 });

export const WebhookDeliverySchema = new Schema<WebhookDeliveryRecord>(
  {
    deliveryId: { type: String, required: true },
    endpointId: { type: String, required: true },
    userId: { type: String, required: true },
    eventId: { type: String, required: true },
    eventType: { type: String, required: true },
    subjectId: { type: String, required: true },
    eventCreatedAt: { type: Number, required: true },
    status: { type: String, required: true },
    attempts: { type: Number, default: 0 },
    lastHttpStatus: { type: Number, default: null },
    lastError: { type: String, default: null },
    nextAttemptAt: { type: Date, default: null },
    deliveredAt: { type: Date, default: null },
  },
  { collection: 'webhook_deliveries', timestamps: true, minimize: false, versionKey: false },
);
WebhookDeliverySchema.index({ deliveryId: 1 }, { unique: true });
// The delivery log of an endpoint, newest first.
WebhookDeliverySchema.index({ endpointId: 1, createdAt: -1 });
// For the recovery sweep only: pending deliveries long past their due time.
WebhookDeliverySchema.index({ status: 1, nextAttemptAt: 1 });
