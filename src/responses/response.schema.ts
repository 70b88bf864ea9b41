import { Schema } from 'mongoose';

export const RESPONSE_MODEL = 'ResponseRecord';

export type ResponseStatus = 'queued' | 'in_progress' | 'completed' | 'failed' | 'cancelled' | 'incomplete';
export const TERMINAL_STATUSES: readonly ResponseStatus[] = ['completed', 'failed', 'cancelled', 'incomplete'];
export const ACTIVE_STATUSES: readonly ResponseStatus[] = ['queued', 'in_progress'];

export interface ResponseErrorInfo {
  code: string;
  message: string;
}

/** OhMyGPT's per-call record body, kept field for field. */
export interface CommonData {
  requestRawData: Record<string, unknown>;
  responseRawData: Record<string, unknown> | null;
  openAIStoredBody: Record<string, unknown> | null;
  userAgent: string | null;
  reqIp: string | null;
  usage: { input_text: number; output_text: number };
  costCoins: number;
}

/** A stored response as the repository hands it out: a plain object, never a mongoose document. */
export interface ResponseRecord {
  // OhMyGPT's stored-call fields
  userId: string;
  omgUrId: string;
  reqBodyHash: string;
  createdAt: Date;
  updatedAt: Date;
  responseId: string;
  commonData: CommonData;
  metadata: Record<string, string> | null;
  // our own
  status: ResponseStatus;
  model: string;
  background: boolean;
  store: boolean;
  inputItems: Record<string, unknown>[];
  output: Record<string, unknown>[];
  usage: Record<string, unknown> | null;
  error: ResponseErrorInfo | null;
  /** HTTP status to answer a synchronous caller with when the call failed. */
  errorStatus: number | null;
  incompleteDetails: Record<string, unknown> | null;
  startedAt: Date | null;
  completedAt: Date | null;
  cancelledAt: Date | null;
  /** Upstream calls made for this response, retries included. */
  upstreamCalls: number;
}

const { Mixed } = Schema.Types;

export const ResponseSchema = new Schema<ResponseRecord>(
  {
    userId: { type: String, required: true },
    omgUrId: { type: String, required: true },
    reqBodyHash: { type: String, required: true },
    responseId: { type: String, required: true },
    commonData: {
      requestRawData: { type: Mixed, required: true },
      responseRawData: { type: Mixed, default: null },
      openAIStoredBody: { type: Mixed, default: null },
      userAgent: { type: String, default: null },
      reqIp: { type: String, default: null },
      usage: {
        input_text: { type: Number, default: 0 },
        output_text: { type: Number, default: 0 },
      },
      costCoins: { type: Number, default: 0 },
    },
    metadata: { type: Mixed, default: null },
    status: { type: String, required: true },
    model: { type: String, required: true },
    background: { type: Boolean, required: true },
    store: { type: Boolean, required: true },
    inputItems: { type: Mixed, default: () => [] },
    output: { type: Mixed, default: () => [] },
    usage: { type: Mixed, default: null },
    error: { type: Mixed, default: null },
    errorStatus: { type: Number, default: null },
    incompleteDetails: { type: Mixed, default: null },
    startedAt: { type: Date, default: null },
    completedAt: { type: Date, default: null },
    cancelledAt: { type: Date, default: null },
    upstreamCalls: { type: Number, default: 0 },
  },
  { collection: 'responses', timestamps: true, minimize: false, versionKey: false },
);

// Every query is scoped by owner, so every index starts with userId.
ResponseSchema.index({ userId: 1, responseId: 1 }, { unique: true });
ResponseSchema.index({ userId: 1, createdAt: -1, _id: -1 });
