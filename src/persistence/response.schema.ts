import { Schema } from 'mongoose';
import type { ResponseRecord } from '../domain/call';
import { callRecordSchema } from './call-record.schema';

export const RESPONSE_MODEL = 'ResponseRecord';

const { Mixed } = Schema.Types;

export const ResponseSchema = callRecordSchema<ResponseRecord>('responses', {
  inputItems: { type: Mixed, default: () => [] },
  output: { type: Mixed, default: () => [] },
  usage: { type: Mixed, default: null },
  incompleteDetails: { type: Mixed, default: null },
  previousResponseId: { type: String, default: null },
  chain: { type: [String], default: () => [] },
  conversationId: { type: String, default: null },
  conversationAppendedAt: { type: Date, default: null },
});
// For the sweep of finished turns whose items did not reach their conversation (system-wide, not a user query).
ResponseSchema.index({ conversationAppendedAt: 1, conversationId: 1, status: 1 });
