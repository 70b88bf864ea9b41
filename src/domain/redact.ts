/** Longest upstream error text passed on to clients and storage. */
const MAX_MESSAGE = 1000;
/** A bearer credential: the token characters of RFC 6750 (so surrounding punctuation stays). */
const BEARER = /bearer\s+[A-Za-z0-9._~+/=-]+/gi;

/**
 * An upstream's own error text, made safe to pass on: every configured upstream key and every bearer token in it is
 * replaced (an upstream that echoes the request's headers would otherwise hand our credential to a client, the
 * database, Redis and the logs), and it is cut to a readable length.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  out = out.replace(BEARER, 'Bearer [redacted]');
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE)}…` : out;
}
