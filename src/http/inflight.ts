import type { NextFunction, Request, Response } from 'express';

/**
 * Open requests and streams of this api process, so SIGTERM can drain them: /health turns 503
 * (load balancers stop sending), open requests finish, and streams still open when the grace
 * period ends are closed (their clients resume on another replica with starting_after).
 */
export class InflightTracker {
  private open = 0;
  private readonly streams = new Set<() => void>();
  private idle: (() => void) | null = null;
  draining = false;

  readonly middleware = (_req: Request, res: Response, next: NextFunction): void => {
    this.open++;
    res.once('close', () => {
      this.open--;
      if (this.open === 0) this.idle?.();
    });
    next();
  };

  /** A stream registers how to end it; the returned function unregisters it. */
  addStream(end: () => void): () => void {
    this.streams.add(end);
    return () => this.streams.delete(end);
  }

  get openRequests(): number {
    return this.open;
  }

  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    if (this.open > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const end of [...this.streams]) end();
  }
}

/** One per process: the HTTP layer and the SSE writers share it. */
export const inflight = new InflightTracker();
