import type { z } from 'zod';
import { AppError } from '../errors';
import type { JsonObject } from '../json';
import type { IssueParams } from './parse';

/** Deepest nesting of objects and arrays accepted in a stored request (MongoDB allows 100 levels per document). */
export const MAX_JSON_DEPTH = 64;
/**
 * Largest request content (as BSON) that is stored with a call; a MongoDB document holds at most
 * 16 MiB, and the rest is left for the answer the worker writes into the same record.
 */
export const MAX_STORED_REQUEST_BYTES = 12 * 1024 * 1024;

/**
 * Request content is stored as (part of) a MongoDB document and sent upstream as JSON: refuses
 * with a 400 what neither can take (nesting deeper than MAX_JSON_DEPTH, NUL in a key, a number
 * that JSON cannot carry, such as 1e400 parsed to Infinity), and with a 413 content whose BSON
 * size (`alsoStored` included: parts of it the record keeps a second copy of) exceeds
 * MAX_STORED_REQUEST_BYTES.
 */
export function checkStorable(body: JsonObject, alsoStored: unknown[] = []): void {
  const size = [body, ...alsoStored].reduce<number>((n, part) => n + storedSize(part), 0);
  if (size > MAX_STORED_REQUEST_BYTES) {
    throw AppError.tooLarge(
      `The request is too large to be stored: about ${size} bytes as BSON, at most ${MAX_STORED_REQUEST_BYTES}.`,
    );
  }
}

/**
 * checkStorable as a schema refinement of a whole request body; `alsoStored` names the parts the record keeps a
 * second copy of. Runs after the fields passed, as the last check.
 */
export function storable<T extends JsonObject>(alsoStored: (body: T) => unknown[] = () => []) {
  return (body: T, ctx: z.RefinementCtx<T>): void => {
    try {
      checkStorable(body, alsoStored(body));
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      ctx.addIssue({
        code: 'custom',
        message: err.message,
        path: [],
        params: { code: err.code ?? undefined, kind: err.kind, param: err.param ?? undefined } satisfies IssueParams,
      });
    }
  };
}

/**
 * Checks a JSON value (see checkStorable) and returns its BSON size (an upper bound). Iterative,
 * depth-first with one frame per open container, so a hostile depth costs no stack and memory
 * follows the depth, not the size.
 */
function storedSize(value: unknown): number {
  if (typeof value !== 'object' || value === null) return scalarSize(value);
  // An object's own entries (never a lookup by key, which could find inherited names), or an array's elements.
  type Frame = { entries: [string, unknown][] | null; items: unknown[] | null; next: number };
  const open = (container: object): Frame =>
    Array.isArray(container)
      ? { entries: null, items: container, next: 0 }
      : { entries: Object.entries(container), items: null, next: 0 };
  const stack: Frame[] = [open(value)];
  // The path of the value being looked at, as `a.b[0].c`.
  const path = (): string =>
    stack
      .map((f) => (f.entries ? `.${f.entries[f.next - 1][0]}` : `[${f.next - 1}]`))
      .join('')
      .replace(/^\./, '')
      .slice(0, 256);
  let size = 5; // a document: length and terminator
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const length = top.entries ? top.entries.length : top.items!.length;
    if (top.next >= length) {
      stack.pop();
      continue;
    }
    const [key, child] = top.entries ? top.entries[top.next] : [top.next, top.items![top.next]];
    top.next++;
    // Each element: a type byte, its name as a C string, its value.
    size += 2 + (typeof key === 'string' ? Buffer.byteLength(key) : String(key).length);
    if (typeof key === 'string' && key.includes('\u0000'))
      throw AppError.badRequest(
        `Invalid '${path()}': field names must not contain NUL characters.`,
        path(),
        'invalid_value',
      );
    if (typeof child === 'number' && !Number.isFinite(child))
      throw AppError.badRequest(`Invalid '${path()}': number out of range.`, path(), 'invalid_value');
    if (typeof child !== 'object' || child === null) {
      size += scalarSize(child);
      continue;
    }
    if (stack.length >= MAX_JSON_DEPTH) {
      throw AppError.badRequest(
        `Invalid '${path()}': JSON nested deeper than ${MAX_JSON_DEPTH} levels.`,
        path(),
        'nesting_too_deep',
      );
    }
    size += 5;
    stack.push(open(child));
  }
  return size;
}

function scalarSize(value: unknown): number {
  if (typeof value === 'string') return 5 + Buffer.byteLength(value);
  if (typeof value === 'number') return 8;
  if (typeof value === 'boolean') return 1;
  return 0;
}
