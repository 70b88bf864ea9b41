import { Schema } from 'mongoose';
import { type CallRecord, callRecordSchema } from '../calls/call-record';

export const RESPONSE_MODEL = 'ResponseRecord';

/** A stored Responses API call: the shared record plus what a Response has of its own. */
export interface ResponseRecord extends CallRecord {
  inputItems: Record<string, unknown>[];
  output: Record<string, unknown>[];
  usage: Record<string, unknown> | null;
  incompleteDetails: Record<string, unknown> | null;
}

const { Mixed } = Schema.Types;

export const ResponseSchema = callRecordSchema<ResponseRecord>('responses', {
  inputItems: { type: Mixed, default: () => [] },
  output: { type: Mixed, default: () => [] },
  usage: { type: Mixed, default: null },
  incompleteDetails: { type: Mixed, default: null },
});
