import type { Response } from 'express';
import { once } from 'node:events';
import type { CallAnswer } from '../domain/request-context';
import { inflight } from './inflight';

/**
 * Writes frames as a text/event-stream answer, with SSE comment heartbeats while it is open. The next frame is pulled
 * only once the client has taken the last one (a write that fills the socket buffer waits for `drain`), so a slow or
 * stalled reader holds one frame in memory, not the whole log. A client that leaves stops the waiting; the frames
 * are still pulled to their end, so the source sees the client gone and finishes its own way.
 */
export async function writeSse(res: Response, frames: AsyncIterable<string>, heartbeatMs: number): Promise<void> {
  res.status(200);
  res.setHeader('content-type', 'text/event-stream; charset=utf-8');
  res.setHeader('cache-control', 'no-cache');
  res.setHeader('connection', 'keep-alive');
  res.setHeader('x-accel-buffering', 'no'); // proxies must not buffer the stream
  res.flushHeaders();
  const open = () => !res.writableEnded && !res.destroyed;
  // A heartbeat fills a silence of heartbeatMs, never right after a frame (so none lands between the last frame and
  // the end while the source finishes).
  let lastWrite = Date.now();
  const heartbeat = setInterval(() => {
    if (Date.now() - lastWrite < heartbeatMs) return;
    if (open() && !res.writableNeedDrain) res.write(': keepalive\n\n');
    lastWrite = Date.now();
  }, heartbeatMs / 2);
  heartbeat.unref();
  const end = () => {
    clearInterval(heartbeat);
    if (!res.writableEnded) res.end();
  };
  const unregister = inflight.addStream(end);
  try {
    for await (const frame of frames) {
      if (frame === '' || !open()) continue;
      lastWrite = Date.now();
      if (!res.write(frame)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    }
  } finally {
    unregister();
    end();
  }
}

/** Sends what a create answered: JSON, SSE frames, or nothing when the client left. */
export async function sendAnswer(res: Response, answer: CallAnswer, heartbeatMs: number): Promise<void> {
  if (answer === null) return;
  if ('frames' in answer) return writeSse(res, answer.frames, heartbeatMs);
  res.json(answer.body);
}
