import { Schema } from 'mongoose';

export const IDEMPOTENCY_MODEL = 'IdempotencyKeyRecord';

/** An Idempotency-Key a caller sent with a create: which call it made, for which body. */
export interface IdempotencyKeyRecord {
  userId: string;
  key: string;
  /** SHA-256 of the request body's bytes: the same key with another body is a conflict. */
  bodyHash: string;
  callId: string;
  createdAt: Date;
}

export const IdempotencyKeySchema = new Schema<IdempotencyKeyRecord>(
  {
    userId: { type: String, required: true },
    key: { type: String, required: true },
    bodyHash: { type: String, required: true },
    callId: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'idempotency_keys', versionKey: false, autoIndex: true },
);
IdempotencyKeySchema.index({ userId: 1, key: 1 }, { unique: true });
