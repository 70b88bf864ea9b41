import type { Response } from 'express';
import { inflight } from '../infra/inflight';

/** Writes a text/event-stream answer, with SSE comment heartbeats while it is open. */
export class SseWriter {
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unregister: () => void;

  constructor(private readonly res: Response, heartbeatMs: number) {
    res.status(200);
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('connection', 'keep-alive');
    res.setHeader('x-accel-buffering', 'no'); // proxies must not buffer the stream
    res.flushHeaders();
    this.heartbeat = setInterval(() => this.write(': keepalive\n\n'), heartbeatMs);
    this.heartbeat.unref();
    this.unregister = inflight.addStream(() => this.end());
  }

  write(text: string): void {
    if (!this.res.writableEnded && !this.res.destroyed) this.res.write(text);
  }

  end(): void {
    clearInterval(this.heartbeat);
    this.unregister();
    if (!this.res.writableEnded) this.res.end();
  }
}
