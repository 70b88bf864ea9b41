import { Schema, type SchemaDefinition } from 'mongoose';
import type { CallRecord } from '../domain/call';

const { Mixed } = Schema.Types;

/** The shared schema plus a kind's own fields, with indexes that start with the owner. */
export function callRecordSchema<R extends CallRecord>(collection: string, extra: SchemaDefinition = {}): Schema<R> {
  const schema = new Schema<R>(
    {
      userId: { type: String, required: true },
      omgUrId: { type: String, required: true },
      reqBodyHash: { type: String, required: true },
      responseId: { type: String, required: true },
      commonData: {
        requestRawData: { type: Mixed, required: true },
        responseRawData: { type: Mixed, default: null },
        openAIStoredBody: { type: Mixed, default: null },
        userAgent: { type: String, default: null },
        reqIp: { type: String, default: null },
        usage: {
          input_text: { type: Number, default: 0 },
          output_text: { type: Number, default: 0 },
        },
        costCoins: { type: Number, default: 0 },
      },
      metadata: { type: Mixed, default: null },
      keyId: { type: String, default: '' },
      status: { type: String, required: true },
      model: { type: String, required: true },
      background: { type: Boolean, required: true },
      store: { type: Boolean, required: true },
      error: { type: Mixed, default: null },
      errorStatus: { type: Number, default: null },
      startedAt: { type: Date, default: null },
      completedAt: { type: Date, default: null },
      cancelledAt: { type: Date, default: null },
      route: { type: String, default: 'default' },
      upstreamCalls: { type: Number, default: 0 },
      terminalWrites: { type: Number, default: 0 },
      day: { type: String, required: true },
      deletedAt: { type: Date, default: null },
      // The webhook event a background call's terminal transition owes (domain/webhooks).
      webhookEvent: { type: Mixed, default: null },
      webhookPending: { type: Boolean, default: false },
      ...extra,
    } as SchemaDefinition,
    { collection, timestamps: true, minimize: false, versionKey: false },
  );
  schema.index({ userId: 1, responseId: 1 }, { unique: true });
  // Keyset pagination over the owner's records in creation order.
  schema.index({ userId: 1, createdAt: 1, _id: 1 });
  schema.index({ userId: 1, day: 1 });
  // For the recovery sweep only (system-wide, not a user query).
  schema.index({ status: 1, updatedAt: 1 });
  schema.index({ webhookPending: 1, updatedAt: 1 });
  return schema;
}
