/** What the api records about the HTTP request that created a call (OhMyGPT's record fields). */
export interface RequestContext {
  requestId: string;
  userAgent: string | null;
  reqIp: string | null;
  /** SHA-256 of the raw request body bytes, as received. */
  reqBodyHash: string;
  /** The `Idempotency-Key` header: a retry with the same key and body gets the same call. */
  idempotencyKey: string | null;
}

/** A request body as validated by its schema, beside the body as it arrived (kept and forwarded untouched). */
export interface Validated<T> {
  value: T;
  raw: Record<string, unknown>;
}

/**
 * What a call's create answers: a JSON body, SSE frames to write as the client reads them, or nothing (the client
 * left, and the call was cancelled).
 */
export type CallAnswer = { body: Record<string, unknown> } | { frames: AsyncIterable<string> } | null;
