import type { ChatCompletionRecord } from './call';
import type { LogEvent } from './events';

/** Chat streams end with `[DONE]`, or with an error payload (the SDK throws on a top-level `error`). */
export function chatTerminalEvent(record: ChatCompletionRecord): LogEvent {
  if (record.status === 'completed') return { data: '[DONE]', end: true };
  const error = record.error ?? { code: 'server_error', message: 'The chat completion failed.' };
  const payload = { error: { message: error.message, type: 'server_error', param: null, code: error.code } };
  return { data: JSON.stringify(payload), end: true };
}
