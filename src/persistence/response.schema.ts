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
});
