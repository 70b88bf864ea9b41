/**
 * Helpers for `npm run bench`: child processes (all killed on exit), RSS, percentiles, a bounded
 * load loop, an SSE timing reader, and counting TCP proxies for the MongoDB wire protocol and RESP.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';

// ---------------------------------------------------------------- processes

const children = new Set<ChildProcess>();
const extraPids = new Set<number>();

export interface Launched {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
}

/** Spawns a process whose stdout/stderr go to a log file; it is killed when the bench exits. */
export function launch(
  name: string,
  cmd: string,
  args: string[],
  env: Record<string, string>,
  logFile: string,
): Launched {
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, { env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (!child.pid) throw new Error(`could not start ${name}`);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return { name, child, pid: child.pid, logFile };
}

/** Pids started elsewhere (provisionServices) that the bench must also end. */
export function adoptPid(pid: number): void {
  extraPids.add(pid);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const hard = setTimeout(resolve, graceMs + 2000); // bounded even if 'exit' never comes
    child.once('exit', () => {
      clearTimeout(timer);
      clearTimeout(hard);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopProcess(c)));
  for (const pid of extraPids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone
    }
  }
  const deadline = Date.now() + 3000;
  while ([...extraPids].some(alive) && Date.now() < deadline) await sleep(100);
  for (const pid of extraPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  extraPids.clear();
}

/** Last resort on any exit path: nothing the bench started outlives it. */
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const pid of extraPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/** Resident set size in MiB, from /proc/<pid>/status (VmRSS). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/** Median of `n` RSS samples taken `everyMs` apart (smooths allocator jitter). */
export async function rssSample(pid: number, n = 5, everyMs = 200): Promise<number> {
  const v: number[] = [];
  for (let i = 0; i < n; i++) {
    v.push(rssMb(pid));
    if (i < n - 1) await sleep(everyMs);
  }
  return pct(v, 50);
}

// ---------------------------------------------------------------- timing and stats

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const now = () => performance.now();

/** Nearest-rank percentile. */
export function pct(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

export function summarize(values: number[]): Summary {
  const n = values.length;
  return {
    n,
    p50: round(pct(values, 50)),
    p99: round(pct(values, 99)),
    mean: round(n ? values.reduce((a, b) => a + b, 0) / n : NaN),
    min: round(n ? Math.min(...values) : NaN),
    max: round(n ? Math.max(...values) : NaN),
  };
}

export const round = (v: number, d = 3) => (Number.isFinite(v) ? Math.round(v * 10 ** d) / 10 ** d : v);

/** Polls until `check` returns a value (not undefined); throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`,
      );
    await sleep(everyMs);
  }
}

export interface LoadResult {
  ok: number;
  errors: number;
  firstError: string | null;
  elapsedMs: number;
  latencies: number[];
}

/**
 * Runs `op` from `concurrency` loops until `durationMs` has passed or `count` ops were started,
 * whichever comes first; latencies of successful ops in ms.
 */
export async function runLoad(o: {
  concurrency: number;
  durationMs?: number;
  count?: number;
  op: (i: number) => Promise<void>;
}): Promise<LoadResult> {
  const latencies: number[] = [];
  let started = 0;
  let errors = 0;
  let firstError: string | null = null;
  const t0 = now();
  const deadline = o.durationMs !== undefined ? t0 + o.durationMs : Infinity;
  const limit = o.count ?? Infinity;
  const loop = async () => {
    while (started < limit && now() < deadline) {
      const i = started++;
      const t = now();
      try {
        await o.op(i);
        latencies.push(now() - t);
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, loop));
  return { ok: latencies.length, errors, firstError, elapsedMs: now() - t0, latencies };
}

// ---------------------------------------------------------------- HTTP

/** POSTs JSON through an undici dispatcher and returns the parsed body; non-2xx throws. */
export async function postJson(
  d: Dispatcher,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const res = await d.request({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode < 200 || res.statusCode >= 300)
    throw new Error(`POST ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

export interface StreamTiming {
  /** ms from sending the request to the first output token event. */
  ttft: number;
  /** ms between consecutive token events. */
  gaps: number[];
  /** ms from sending to the end of the body. */
  total: number;
  tokens: number;
}

/**
 * POSTs a streaming request and times its token events as they arrive. `isToken` tells an
 * output-token event apart (Responses: `response.output_text.delta`; chat: non-empty content).
 */
export async function timeStream(
  d: Dispatcher,
  path: string,
  body: unknown,
  headers: Record<string, string>,
  isToken: (event: string | null, data: string) => boolean,
  signal?: AbortSignal,
  onFirstToken?: () => void,
  onFirstEvent?: () => void,
): Promise<StreamTiming> {
  const t0 = now();
  const res = await d.request({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify(body),
    signal,
  });
  if (res.statusCode !== 200)
    throw new Error(`stream ${path}: HTTP ${res.statusCode} ${(await res.body.text()).slice(0, 200)}`);
  let buf = '';
  const times: number[] = [];
  let events = 0;
  for await (const chunk of res.body) {
    const at = now();
    buf += (chunk as Buffer).toString('utf8');
    let cut: number;
    while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut).replace(/^\r?\n\r?\n/, '');
      let event: string | null = null;
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length > 0 && events++ === 0) onFirstEvent?.();
      if (data.length > 0 && isToken(event, data.join('\n'))) {
        times.push(at);
        if (times.length === 1) onFirstToken?.();
      }
    }
  }
  const total = now() - t0;
  if (times.length === 0) throw new Error(`stream ${path}: no token events`);
  return { ttft: times[0] - t0, gaps: times.slice(1).map((t, i) => t - times[i]), total, tokens: times.length };
}

export const responsesToken = (event: string | null) => event === 'response.output_text.delta';
export function chatToken(_event: string | null, data: string): boolean {
  if (data === '[DONE]') return false;
  try {
    const c = (JSON.parse(data) as { choices?: { delta?: { content?: unknown } }[] }).choices?.[0]?.delta?.content;
    return typeof c === 'string' && c.length > 0;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- counting proxies

type Counts = Record<string, number>;

/**
 * A TCP proxy on 127.0.0.1 that forwards bytes untouched and counts the client's request
 * messages by name: MongoDB wire-protocol messages (16-byte header: messageLength, requestID,
 * responseTo, opCode; OP_MSG named by its command, the first key of the body document), or RESP
 * commands (named by their first argument). Each request is one round trip (MongoDB
 * `moreToCome` messages, which get no reply, are counted under their own name).
 */
export class CountingProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  counts: Counts = {};
  port = 0;

  constructor(
    private readonly target: { host: string; port: number },
    private readonly protocol: 'mongo' | 'resp',
  ) {}

  async listen(): Promise<number> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  snapshot(): Counts {
    return { ...this.counts };
  }

  private count(name: string): void {
    this.counts[name] = (this.counts[name] ?? 0) + 1;
  }

  private accept(client: Socket): void {
    const upstream = createConnection(this.target);
    this.sockets.add(client).add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const parse = this.protocol === 'mongo' ? mongoParser((n) => this.count(n)) : respParser((n) => this.count(n));
    client.on('data', (chunk: Buffer) => {
      parse(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export function diffCounts(after: Counts, before: Counts): Counts {
  const out: Counts = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

export const sumCounts = (c: Counts, exclude: (name: string) => boolean = () => false) =>
  Object.entries(c).reduce((s, [k, v]) => (exclude(k) ? s : s + v), 0);

function mongoParser(onMessage: (name: string) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= 16) {
      const len = buf.readInt32LE(0);
      if (len < 16 || buf.length < len) break;
      onMessage(mongoMessageName(buf.subarray(0, len)));
      buf = buf.subarray(len);
    }
  };
}

function cstring(b: Buffer, at: number): string {
  const end = b.indexOf(0, at);
  return b.toString('utf8', at, end < 0 ? b.length : end);
}

function mongoMessageName(msg: Buffer): string {
  const opCode = msg.readInt32LE(12);
  if (opCode === 2013) {
    const flags = msg.readUInt32LE(16);
    const end = msg.length - (flags & 1 ? 4 : 0); // checksum present
    let off = 20;
    while (off < end) {
      const kind = msg[off++];
      if (kind === 0) {
        const name = cstring(msg, off + 5); // int32 size, element type byte, then the key
        return flags & 2 ? `${name} (moreToCome)` : name;
      }
      off += msg.readInt32LE(off); // kind 1: a document sequence; its size includes itself
    }
    return 'op_msg?';
  }
  if (opCode === 2004) {
    const coll = cstring(msg, 20);
    const docAt = 20 + Buffer.byteLength(coll) + 1 + 8;
    return `op_query:${cstring(msg, docAt + 5)}`;
  }
  return `opcode_${opCode}`;
}

function respParser(onCommand: (name: string) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  const line = (from: number): [string, number] | null => {
    const at = buf.indexOf('\r\n', from);
    return at < 0 ? null : [buf.toString('latin1', from, at), at + 2];
  };
  return (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length === 0) return;
      if (buf[0] !== 0x2a /* '*' */) {
        const l = line(0);
        if (!l) return;
        onCommand(`inline:${l[0].split(' ')[0].toLowerCase()}`);
        buf = buf.subarray(l[1]);
        continue;
      }
      const head = line(0);
      if (!head) return;
      const n = Number(head[0].slice(1));
      let off = head[1];
      let name = '';
      let complete = true;
      for (let i = 0; i < n; i++) {
        const l = line(off);
        if (!l) {
          complete = false;
          break;
        }
        const len = Number(l[0].slice(1));
        if (buf.length < l[1] + len + 2) {
          complete = false;
          break;
        }
        if (i === 0) name = buf.toString('latin1', l[1], l[1] + len).toLowerCase();
        off = l[1] + len + 2;
      }
      if (!complete) return;
      onCommand(name);
      buf = buf.subarray(off);
    }
  };
}
