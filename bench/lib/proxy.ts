/** Counting TCP proxies for the MongoDB wire protocol and RESP: round trips per command, bytes untouched. */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

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
  /** Time requests waited for the server's first reply bytes, summed over connections (ms). */
  wireMs = 0;
  port = 0;
  /** A command whose requests are held back this long before they are forwarded (tests widen a window with it). */
  private held: { name: string; ms: number } | null = null;

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

  /** From now on, requests named `name` reach the server `ms` later (and what follows them on that connection). */
  hold(name: string, ms: number): void {
    this.held = { name, ms };
  }

  release(): void {
    this.held = null;
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
    // Wire time: from a request's bytes to the first bytes of the reply (the drivers send one request at a time
    // per connection; RESP pipelines count once per batch).
    // The drivers' monitoring (an awaitable hello the server holds for seconds) is not timed.
    let sentAt = 0;
    let holdMs = 0;
    const onMessage = (n: string) => {
      this.count(n);
      if (this.held?.name === n) holdMs = this.held.ms;
      if (sentAt === 0 && !/^(hello|ismaster)/i.test(n)) sentAt = performance.now();
    };
    const parse = this.protocol === 'mongo' ? mongoParser(onMessage) : respParser(onMessage);
    // Bytes stay in order on a connection: once one chunk is held, the ones after it wait behind it.
    let behind: Promise<void> | null = null;
    client.on('data', (chunk: Buffer) => {
      holdMs = 0;
      parse(chunk);
      const ms = holdMs;
      if (ms === 0 && !behind) {
        upstream.write(chunk);
        return;
      }
      const mine: Promise<void> = (behind ?? Promise.resolve())
        .then(() => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : undefined))
        .then(() => {
          upstream.write(chunk);
          if (behind === mine) behind = null;
        });
      behind = mine;
    });
    upstream.on('data', (chunk: Buffer) => {
      if (sentAt !== 0) {
        this.wireMs += performance.now() - sentAt;
        sentAt = 0;
      }
      client.write(chunk);
    });
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
