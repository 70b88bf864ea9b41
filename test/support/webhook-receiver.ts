/**
 * A webhook receiver on loopback for the tests: every POST is verified with the official SDK's
 * `client.webhooks.unwrap(body, headers, secret)` against the secrets the test gave for its path, and recorded (raw
 * body, headers, the verified event, the answer it got). What it answers is up to the test (`answer`).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';

export interface ReceivedHook {
  path: string;
  webhookId: string;
  timestamp: string;
  signatures: string[];
  body: string;
  /** The event as unwrap parsed it; null when no secret of the path verified it. */
  event: { id: string; type: string; created_at: number; data: { id: string }; object?: string } | null;
  /** The secrets (by index in the path's list) whose signature unwrap accepted. */
  verifiedWith: number[];
  contentType: string;
  status: number;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  /** The secrets a path's deliveries must verify with (each one is checked with unwrap on its own). */
  setSecrets(path: string, secrets: string[]): void;
  /** Decides the HTTP status of each delivery (default 200); `n` counts the path's deliveries of that webhook-id. */
  answer(fn: (hook: { path: string; webhookId: string; n: number }) => number): void;
  received(): ReceivedHook[];
  /** Deliveries of one call (by `data.id`), verified ones only. */
  eventsFor(id: string): ReceivedHook[];
  close(): Promise<void>;
}

const sdk = new OpenAI({ apiKey: 'not-used-by-unwrap' });

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const secrets = new Map<string, string[]>();
  const hooks: ReceivedHook[] = [];
  let decide: (hook: { path: string; webhookId: string; n: number }) => number = () => 200;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = (req.url ?? '/').split('?')[0];
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const webhookId = headers.get('webhook-id') ?? '';
      const verifiedWith: number[] = [];
      let event: ReceivedHook['event'] = null;
      const list = secrets.get(path) ?? [];
      for (let i = 0; i < list.length; i++) {
        try {
          event = (await sdk.webhooks.unwrap(body, headers, list[i])) as ReceivedHook['event'];
          verifiedWith.push(i);
        } catch {
          // not signed with this one
        }
      }
      const n = hooks.filter((h) => h.path === path && h.webhookId === webhookId).length + 1;
      const status = decide({ path, webhookId, n });
      hooks.push({
        path,
        webhookId,
        timestamp: headers.get('webhook-timestamp') ?? '',
        signatures: (headers.get('webhook-signature') ?? '').split(' ').filter(Boolean),
        body,
        event,
        verifiedWith,
        contentType: headers.get('content-type') ?? '',
        status,
        at: Date.now(),
      });
      const location = status >= 300 && status < 400 ? { location: '/redirected' } : undefined;
      res.writeHead(status, { 'content-type': 'text/plain', ...location });
      res.end(status >= 200 && status < 300 ? 'ok' : 'no');
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setSecrets: (path, list) => void secrets.set(path, list),
    answer: (fn) => void (decide = fn),
    received: () => [...hooks],
    eventsFor: (id) => hooks.filter((h) => h.event?.data.id === id),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A fresh `whsec_` secret, as the service makes them. */
export const testWebhookSecret = (): string =>
  `whsec_${Buffer.from(Array.from({ length: 32 }, () => Math.floor(Math.random() * 256))).toString('base64')}`;
