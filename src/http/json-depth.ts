import type { IncomingMessage } from 'node:http';
import { MAX_JSON_DEPTH } from '../domain/requests/storable';

/** A body-parser error (status 400, type `entity.too.deep`), answered by the exception filter. */
class TooDeepError extends Error {
  readonly status = 400;
  readonly expose = true;
  readonly type = 'entity.too.deep';
}

/**
 * Refuses a JSON body nested deeper than MAX_JSON_DEPTH while it is still bytes, before JSON.parse builds it: parsing
 * a 10 MB `[[[…]]]` blocks the event loop for seconds, and it would be refused afterwards anyway. Brackets inside
 * strings do not count. Used as body-parser's `verify`.
 */
export function refuseDeepJson(_req: unknown, _res: unknown, buf: Buffer): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) {
        throw new TooDeepError(`The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels.`);
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
}

/** Keeps the body's bytes as received (for `reqBodyHash`); body-parser's `verify` for urlencoded bodies. */
export function keepRawBody(req: IncomingMessage & { rawBody?: Buffer }, _res: unknown, buf: Buffer): void {
  req.rawBody = buf;
}

/** body-parser's `verify` for JSON bodies: keep the bytes, refuse nesting beyond the limit. */
export function verifyJsonBody(req: IncomingMessage & { rawBody?: Buffer }, res: unknown, buf: Buffer): void {
  keepRawBody(req, res, buf);
  refuseDeepJson(req, res, buf);
}
