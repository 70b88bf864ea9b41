/**
 * A stored model call, the record both responses and chat completions share. The first group of
 * fields mirrors OhMyGPT's stored-completion document; the rest is our job state.
 */
export type CallStatus = 'queued' | 'in_progress' | 'completed' | 'failed' | 'cancelled' | 'incomplete';
export const TERMINAL_STATUSES: readonly CallStatus[] = ['completed', 'failed', 'cancelled', 'incomplete'];
export const ACTIVE_STATUSES: readonly CallStatus[] = ['queued', 'in_progress'];

export interface CallErrorInfo {
  code: string;
  message: string;
}

export interface CommonData {
  requestRawData: Record<string, unknown>;
  responseRawData: Record<string, unknown> | null;
  openAIStoredBody: Record<string, unknown> | null;
  userAgent: string | null;
  reqIp: string | null;
  usage: { input_text: number; output_text: number };
  costCoins: number;
}

export interface CallRecord {
  // OhMyGPT's stored-call fields
  userId: string;
  omgUrId: string;
  reqBodyHash: string;
  createdAt: Date;
  updatedAt: Date;
  /** The public id: `resp_...` or `chatcmpl-...`. */
  responseId: string;
  commonData: CommonData;
  metadata: Record<string, string> | null;
  // our own
  /** The API key that created the call (for its rate-limit slot and per-key accounting). */
  keyId: string;
  status: CallStatus;
  model: string;
  background: boolean;
  store: boolean;
  error: CallErrorInfo | null;
  /** HTTP status to answer a synchronous caller with when the call failed. */
  errorStatus: number | null;
  /** When the current (latest) attempt started. */
  startedAt: Date | null;
  completedAt: Date | null;
  cancelledAt: Date | null;
  /** The upstream route (and so the queue) that serves the call. */
  route: string;
  /** Upstream calls made, retries included. */
  upstreamCalls: number;
  /** Terminal transitions written (1 once finished; the fault tests check it is never more). */
  terminalWrites: number;
  /** UTC day of creation (YYYY-MM-DD), for usage sums by day. */
  day: string;
  /**
   * Set when the call was deleted (or, with store: false, once answered): the record stays as a
   * tombstone, its content removed, so usage and cost still add up; no read ever returns it.
   */
  deletedAt: Date | null;
  /**
   * The webhook event a background call's terminal transition owes: written by the same conditional update that wins
   * the transition (so only the winner owes one, and its id is fixed once); `webhookPending` stays true until the
   * event's deliveries are enqueued (the recovery sweep enqueues them when a process stopped in between).
   */
  webhookEvent: OwedEvent | null;
  webhookPending: boolean;
}

export interface OwedEvent {
  /** `evt_…`, the event body's id. */
  id: string;
  /** When the call reached its terminal state (the body's created_at). */
  at: Date;
}

/** Owner and id: the owner is part of every filter, so no read can cross users. */
export interface CallKey {
  userId: string;
  responseId: string;
}

export type NewCall<R extends CallRecord> = Omit<R, 'createdAt' | 'updatedAt'>;

/** A `$set`: top-level fields, or dotted paths into commonData. */
export type CallChanges<R extends CallRecord> = Partial<
  Omit<R, 'userId' | 'responseId' | 'createdAt' | 'updatedAt'>
> & {
  [path: `commonData.${string}`]: unknown;
};

export const keyOf = (r: CallRecord): CallKey => ({ userId: r.userId, responseId: r.responseId });

/** What a new call record needs beyond the request context; the rest starts empty. */
export interface NewCallFields {
  userId: string;
  keyId: string;
  responseId: string;
  requestId: string;
  reqBodyHash: string;
  userAgent: string | null;
  reqIp: string | null;
  request: Record<string, unknown>;
  model: string;
  metadata: Record<string, string> | null;
  background: boolean;
  store: boolean;
  route?: string;
}

/** The fields a call takes from who made it and from its HTTP request. */
export function callerFields(
  caller: { userId: string; keyId: string },
  ctx: { requestId: string; reqBodyHash: string; userAgent: string | null; reqIp: string | null },
): Pick<NewCallFields, 'userId' | 'keyId' | 'requestId' | 'reqBodyHash' | 'userAgent' | 'reqIp'> {
  return {
    userId: caller.userId,
    keyId: caller.keyId,
    requestId: ctx.requestId,
    reqBodyHash: ctx.reqBodyHash,
    userAgent: ctx.userAgent,
    reqIp: ctx.reqIp,
  };
}

/** The shared part of a freshly accepted call, in OhMyGPT's record shape, status `queued`. */
export function newCallRecord(f: NewCallFields & Record<string, unknown>): NewCall<CallRecord> {
  return {
    userId: f.userId,
    keyId: f.keyId,
    responseId: f.responseId,
    omgUrId: f.requestId,
    reqBodyHash: f.reqBodyHash,
    commonData: {
      requestRawData: f.request,
      responseRawData: null,
      openAIStoredBody: null,
      userAgent: f.userAgent,
      reqIp: f.reqIp,
      usage: { input_text: 0, output_text: 0 },
      costCoins: 0,
    },
    metadata: f.metadata,
    status: 'queued',
    model: f.model,
    background: f.background,
    store: f.store,
    error: null,
    errorStatus: null,
    startedAt: null,
    completedAt: null,
    cancelledAt: null,
    route: f.route ?? 'default',
    upstreamCalls: 0,
    terminalWrites: 0,
    day: new Date().toISOString().slice(0, 10),
    deletedAt: null,
    webhookEvent: null,
    webhookPending: false,
  };
}

/** A stored Responses API call: the shared record plus what a Response has of its own. */
export interface ResponseRecord extends CallRecord {
  inputItems: Record<string, unknown>[];
  output: Record<string, unknown>[];
  usage: Record<string, unknown> | null;
  incompleteDetails: Record<string, unknown> | null;
  /** The response this one continues (`previous_response_id`), and every response before it, oldest first. */
  previousResponseId: string | null;
  chain: string[];
  /** The conversation this turn belongs to, and when its items were appended to it. */
  conversationId: string | null;
  conversationAppendedAt: Date | null;
}

/** What a new response continues (resolved from `previous_response_id` or `conversation`). */
export interface TurnPlace {
  previousResponseId: string | null;
  chain: string[];
  conversationId: string | null;
}

/** A freshly accepted response: the shared record, its input as items, nothing produced yet, its place in a chain. */
export function newResponseFields(
  inputItems: Record<string, unknown>[],
  place: TurnPlace,
): Omit<ResponseRecord, keyof CallRecord> {
  return { inputItems, output: [], usage: null, incompleteDetails: null, ...place, conversationAppendedAt: null };
}

/**
 * A stored chat completion. The request's messages are in commonData.requestRawData, the upstream's answer in
 * commonData.responseRawData, and the ChatCompletion we serve (with our id) in commonData.openAIStoredBody once done.
 */
export type ChatCompletionRecord = CallRecord;

/** A record with its storage id, for OhMyGPT's item shape (`_id`). */
export type RecordWithId<R extends CallRecord = CallRecord> = R & { _id: string };

/**
 * Whether a call can still be read. Stored calls can; a call that keeps nothing (`store: false`) only while it runs,
 * and a background one also for `retentionMs` after it ended, so it can be polled and streamed (then it is removed).
 */
export function isReadable(r: CallRecord, retentionMs: number, now = Date.now()): boolean {
  if (r.store || ACTIVE_STATUSES.includes(r.status)) return true;
  return r.background && new Date(r.updatedAt).getTime() > now - retentionMs;
}

/** A finished response that belongs to a conversation and has not been added to it yet. */
export function isPendingConversationTurn(r: CallRecord): r is ResponseRecord & { conversationId: string } {
  const turn = r as Partial<ResponseRecord>;
  return (
    typeof turn.conversationId === 'string' &&
    !turn.conversationAppendedAt &&
    (r.status === 'completed' || r.status === 'incomplete')
  );
}
