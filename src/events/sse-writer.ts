import type { Response } from 'express';

/** Writes a text/event-stream answer, with SSE comment heartbeats while it is open. */
export class SseWriter {
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly res: Response, heartbeatMs: number) {
    res.status(200);
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('connection', 'keep-alive');
    res.setHeader('x-accel-buffering', 'no'); // proxies must not buffer the stream
    res.flushHeaders();
    this.heartbeat = setInterval(() => this.write(': keepalive\n\n'), heartbeatMs);
    this.heartbeat.unref();
  }

  write(text: string): void {
    if (!this.res.writableEnded && !this.res.destroyed) this.res.write(text);
  }

  end(): void {
    clearInterval(this.heartbeat);
    if (!this.res.writableEnded) this.res.end();
  }
}
