/** HTTP for the bench: JSON POSTs and an SSE reader that times token events as they arrive. */
import type { Dispatcher } from 'undici';
import { now } from './stats';

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
