/**
 * Sending and checking: every request is bounded (a request not answered in time is a hang), sent with raw fetch or,
 * for bytes fetch refuses to send, over a raw socket; every answer is checked against the property all answers hold
 * (no 5xx, an acceptable status, an x-request-id, the family's error envelope) and counted for the coverage report.
 */
import fc from 'fast-check';
import { connect } from 'node:net';
import { REQUEST_TIMEOUT_MS, RUNS, SEED, SHRINK } from './config';
import { record } from './coverage';
import { world } from './world';

export interface Req {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export interface Answer {
  status: number;
  requestId: string | null;
  contentType: string;
  text: string;
  ms: number;
}

export type Family = 'openai' | 'ohmygpt';

export function describeReq(r: Req): string {
  const body = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : Buffer.from(r.body).toString('latin1');
  const headers = JSON.stringify(r.headers ?? {});
  return (
    `${r.method} ${r.path.slice(0, 300)}${r.path.length > 300 ? `...(${r.path.length})` : ''} ` +
    `headers=${headers.slice(0, 300)} ` +
    `body=${JSON.stringify(body.slice(0, 300))}${body.length > 300 ? `...(${body.length})` : ''}`
  );
}

export async function send(r: Req): Promise<Answer> {
  const started = Date.now();
  let res: Response;
  try {
    res = await fetch(world.base + r.path, {
      method: r.method,
      headers: r.headers,
      body: r.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    return {
      status: res.status,
      requestId: res.headers.get('x-request-id'),
      contentType: res.headers.get('content-type') ?? '',
      text,
      ms: Date.now() - started,
    };
  } catch (err) {
    const e = err as Error;
    const hang = e.name === 'TimeoutError' || e.name === 'AbortError';
    throw new Error(
      `${
        hang
          ? `no complete answer within ${REQUEST_TIMEOUT_MS} ms (hang)`
          : `request failed: ${e.message} (${String((e as { cause?: unknown }).cause)})`
      }: ${describeReq(r)}`,
    );
  }
}

export interface Expectation {
  family: Family;
  /** Which statuses are acceptable for this input; every one is checked against its envelope. */
  allow: (status: number) => boolean;
  /** Extra checks on an error body (e.g. the param it names). */
  error?: (body: { message: string; param: string | null; code: string | null }, a: Answer) => void;
  /** Extra checks on a 2xx body. */
  ok?: (a: Answer) => void;
}

export const is4xx = (s: number) => s >= 400 && s < 500;
export const is4xxOr200 = (s: number) => s === 200 || is4xx(s);
export const only =
  (...statuses: number[]) =>
  (s: number) =>
    statuses.includes(s);

/** The property every answer must hold; throws with the request and the answer on a violation. */
export function check(cls: string, r: Req, a: Answer, exp: Expectation): void {
  record(cls, a.status, a.ms);
  if (process.env.FUZZ_DEBUG && cls.includes(process.env.FUZZ_DEBUG))
    process.stdout.write(`${cls} ${a.status} ${a.text.slice(0, 160)}\n`);
  try {
    if (a.status >= 500) throw new Error(`a ${a.status}`);
    if (!exp.allow(a.status)) throw new Error(`status ${a.status} is not acceptable here`);
    if (!/^req_[0-9a-f]{32}$/.test(a.requestId ?? ''))
      throw new Error(`x-request-id missing or malformed: ${a.requestId}`);
    if (a.status >= 400) {
      const body = parseJson(a.text);
      if (exp.family === 'openai') {
        if (!isPlainObject(body) || Object.keys(body).join() !== 'error')
          throw new Error('not in the OpenAI error envelope');
        const e = body.error;
        if (!isPlainObject(e) || Object.keys(e).sort().join() !== 'code,message,param,type')
          throw new Error('error object without exactly message, type, param, code');
        if (typeof e.message !== 'string' || e.message === '' || typeof e.type !== 'string')
          throw new Error('error message/type not non-empty strings');
        if (e.param !== null && typeof e.param !== 'string') throw new Error('error.param neither string nor null');
        if (e.code !== null && typeof e.code !== 'string') throw new Error('error.code neither string nor null');
        exp.error?.(e as { message: string; param: string | null; code: string | null }, a);
      } else {
        if (!isPlainObject(body) || Object.keys(body).sort().join() !== 'data,message,statusCode')
          throw new Error('not in the OhMyGPT envelope');
        if (
          body.statusCode !== a.status ||
          body.data !== null ||
          typeof body.message !== 'string' ||
          body.message === ''
        ) {
          throw new Error('OhMyGPT envelope with a wrong statusCode, data or message');
        }
        exp.error?.({ message: body.message as string, param: null, code: null }, a);
      }
    } else {
      if (a.contentType.startsWith('text/event-stream')) {
        // Possibly empty (a cancelled response has no terminal event), never anything but SSE lines.
        const bad = a.text.split('\n').find((l) => l !== '' && !/^(event|data|id|retry):|^:/.test(l));
        if (bad !== undefined) throw new Error(`not an event stream line: ${JSON.stringify(bad.slice(0, 100))}`);
      } else if (!isPlainObject(parseJson(a.text))) {
        throw new Error('a 2xx whose body is not a JSON object');
      }
      exp.ok?.(a);
    }
  } catch (err) {
    throw new Error(
      `[${cls}] ${(err as Error).message}\n  request: ${describeReq(r)}\n  answer: ${a.status} ${a.text.slice(0, 400)}`,
    );
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('body is not JSON');
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export async function sendAndCheck(cls: string, r: Req, exp: Expectation): Promise<Answer> {
  const a = await send(r);
  check(cls, r, a, exp);
  return a;
}

/**
 * Runs a property; a failure names the seed and path to replay it and the failing request (not
 * fast-check's dump of the generated value, which for 12k-level JSON is unreadable).
 */
export async function runProperty<T>(arb: fc.Arbitrary<T>, body: (v: T) => Promise<void>, runs = RUNS): Promise<void> {
  const out = await fc.check(fc.asyncProperty(arb, body), { seed: SEED, numRuns: runs, endOnFailure: !SHRINK });
  if (out.failed) {
    const cause = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
    throw new Error(
      `property failed after ${out.numRuns} run(s) (replay: seed ${out.seed}, path "${out.counterexamplePath}")\n` +
        cause.slice(0, 3000),
    );
  }
}

/**
 * A request over a raw socket, for bytes fetch will not send (UTF-8 in headers, broken request
 * lines). Answers the status, the headers and the body Node or the api sent back.
 */
export function rawHttp(head: Buffer): Promise<Answer & { headers: Record<string, string> }> {
  const started = Date.now();
  const { hostname, port } = new URL(world.base);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `raw request: no answer within ${REQUEST_TIMEOUT_MS} ms (hang): ` +
            JSON.stringify(head.toString('latin1').slice(0, 300)),
        ),
      );
    }, REQUEST_TIMEOUT_MS);
    socket.on('connect', () => socket.write(head));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined); // a reset after the answer is fine; no answer is caught below
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('utf8');
      const sep = raw.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(raw);
      if (!m || sep < 0)
        return reject(
          new Error(
            `raw request: no HTTP answer (${JSON.stringify(raw.slice(0, 200))}) to ` +
              JSON.stringify(head.toString('latin1').slice(0, 300)),
          ),
        );
      const headers: Record<string, string> = {};
      for (const line of raw.slice(0, sep).split('\r\n').slice(1)) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      let text = raw.slice(sep + 4);
      if (/chunked/i.test(headers['transfer-encoding'] ?? '')) text = dechunk(text);
      resolve({
        status: Number(m[1]),
        requestId: headers['x-request-id'] ?? null,
        contentType: headers['content-type'] ?? '',
        text,
        ms: Date.now() - started,
        headers,
      });
    });
  });
}

function dechunk(s: string): string {
  let out = '';
  let rest = s;
  for (;;) {
    const nl = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, nl), 16);
    if (!(size > 0)) return out;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 2 + size + 2);
  }
}

export function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
