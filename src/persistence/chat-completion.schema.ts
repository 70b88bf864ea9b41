import type { ChatCompletionRecord } from '../domain/call';
import { callRecordSchema } from './call-record.schema';

export const CHAT_COMPLETION_MODEL = 'ChatCompletionRecord';

export const ChatCompletionSchema = callRecordSchema<ChatCompletionRecord>('chat_completions');
// The OhMyGPT list filters by model within an owner's records.
ChatCompletionSchema.index({ userId: 1, model: 1, createdAt: -1 });
