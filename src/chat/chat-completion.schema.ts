import { type CallRecord, callRecordSchema } from '../calls/call-record';

export const CHAT_COMPLETION_MODEL = 'ChatCompletionRecord';

/**
 * A stored chat completion. The request's messages are in commonData.requestRawData, the
 * upstream's answer in commonData.responseRawData, and the ChatCompletion we serve (with our
 * id) in commonData.openAIStoredBody once it is done.
 */
export type ChatCompletionRecord = CallRecord;

export const ChatCompletionSchema = callRecordSchema<ChatCompletionRecord>('chat_completions');
// The OhMyGPT list filters by model within an owner's records.
ChatCompletionSchema.index({ userId: 1, model: 1, createdAt: -1 });
