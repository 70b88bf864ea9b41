import type { Response } from 'express';
import type { JsonObject } from '../domain/json';

/**
 * `openai-poll-after-ms` on a read of a call that has not finished: the SDK's polling helper waits that long before
 * it asks again (5 s without it).
 */
export function withPollHint(res: Response, body: JsonObject, pollAfterMs: number): JsonObject {
  if (body.status === 'queued' || body.status === 'in_progress')
    res.setHeader('openai-poll-after-ms', String(pollAfterMs));
  return body;
}
