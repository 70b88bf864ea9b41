import { Schema } from 'mongoose';
import type { ApiKeyRecord } from '../domain/api-key';

export const API_KEY_MODEL = 'ApiKeyRecord';

export const ApiKeySchema = new Schema<ApiKeyRecord>(
  {
    keyId: { type: String, required: true },
    keyHash: { type: String, required: true },
    prefix: { type: String, required: true },
    last4: { type: String, required: true },
    userId: { type: String, required: true },
    name: { type: String, default: '' },
    enabled: { type: Boolean, default: true },
    limits: {
      rpm: { type: Number, default: null },
      concurrency: { type: Number, default: null },
    },
    lastUsedAt: { type: Date, default: null },
    revokedAt: { type: Date, default: null },
  },
  { collection: 'api_keys', timestamps: true, minimize: false, versionKey: false },
);
ApiKeySchema.index({ keyHash: 1 }, { unique: true });
ApiKeySchema.index({ keyId: 1 }, { unique: true });
ApiKeySchema.index({ userId: 1, createdAt: 1 });
