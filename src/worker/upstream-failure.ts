import type { CallErrorInfo } from '../domain/call';
import type { UpstreamError } from './upstream-error';

/** How an upstream failure that ends a call is stored: the error clients see, and the status a synchronous one gets. */
export function failureOf(
  err: UpstreamError,
  message: string,
  streamed: boolean,
  attempts: number,
): { error: CallErrorInfo; httpStatus: number } {
  const suffix = streamed
    ? ' (the stream broke after output was sent)'
    : err.retryable
      ? ` (after ${attempts} attempts)`
      : '';
  return { error: { code: errorCode(err), message: `${message}${suffix}` }, httpStatus: failureHttpStatus(err) };
}

function errorCode(err: UpstreamError): string {
  if (err.status === 429) return 'rate_limit_exceeded';
  // The upstream's code is passed on only when it looks like one (it is the upstream's text, not ours).
  const code = err.upstreamCode !== null && /^[A-Za-z0-9_.-]{1,64}$/.test(err.upstreamCode) ? err.upstreamCode : null;
  if (err.status !== null && err.status >= 400 && err.status < 500) return code ?? 'invalid_prompt';
  return 'server_error';
}

/** A synchronous caller sees the upstream's 4xx (and 429) as is; anything else is a 502 from us. */
function failureHttpStatus(err: UpstreamError): number {
  if (err.status === 429) return 429;
  const clientError = err.status !== null && err.status >= 400 && err.status < 500;
  if (clientError && err.status !== 408 && err.status !== 409) return err.status!;
  return 502;
}
