/** What went wrong talking to the upstream, and whether trying again could help. */
export class UpstreamError extends Error {
  constructor(
    message: string,
    /** HTTP status from the upstream, or null when no response arrived (reset, timeout, refused). */
    readonly status: number | null,
    readonly retryable: boolean,
    /** From Retry-After / retry-after-ms, when the upstream gave one. */
    readonly retryAfterMs: number | null = null,
    /** The upstream's own error code, when its body had one. */
    readonly upstreamCode: string | null = null,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

const RETRYABLE_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504]);
export const isRetryableStatus = (status: number): boolean => RETRYABLE_STATUS.has(status) || status >= 500;

/** Undici/Node network error codes that mean "try again later". */
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

export function isAbortError(err: unknown): boolean {
  const e = err as { name?: string; code?: string };
  return e?.name === 'AbortError' || e?.code === 'UND_ERR_ABORTED' || e?.code === 'ABORT_ERR';
}

export function networkError(err: unknown): UpstreamError {
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? 'UNKNOWN';
  const timeout = code.includes('TIMEOUT');
  return new UpstreamError(
    timeout ? `The upstream did not answer in time (${code}).` : `Could not reach the upstream (${code}).`,
    null,
    RETRYABLE_CODES.has(code),
  );
}

/** Retry-After in seconds or as an HTTP date, or retry-after-ms; null when absent or unusable. */
export function parseRetryAfter(
  headers: Record<string, string | string[] | undefined>,
  now = Date.now(),
): number | null {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const ms = first(headers['retry-after-ms']);
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const ra = first(headers['retry-after']);
  if (!ra) return null;
  if (/^\d+(\.\d+)?$/.test(ra)) return Math.ceil(Number(ra) * 1000);
  const date = Date.parse(ra);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
