import { Schema } from 'mongoose';

export const API_KEY_MODEL = 'ApiKeyRecord';

/** Per-key overrides of the configured defaults; null means "use the default". */
export interface KeyLimits {
  rpm: number | null;
  concurrency: number | null;
}

/** An API key as stored: only its SHA-256, never the secret itself. */
export interface ApiKeyRecord {
  keyId: string;
  keyHash: string;
  /** The first characters and the last four, to recognise a key in lists. */
  prefix: string;
  last4: string;
  userId: string;
  name: string;
  enabled: boolean;
  limits: KeyLimits;
  createdAt: Date;
  updatedAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

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
