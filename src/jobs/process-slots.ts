/**
 * One budget of WORKER_CONCURRENCY for everything a worker process runs, whichever queue a job came from. Each queue's
 * BullMQ worker may fetch up to the whole budget; when the budget is spent, `onFull` pauses the others' fetching and
 * `onFree` resumes it. A job fetched in the moment between is refused a slot and handed back (no attempt spent).
 *
 * One owner (an API key) holds at most `perOwner` slots, so the rest stay free for other keys' calls: a key with a
 * backlog cannot hold everyone else's calls back.
 */
export class ProcessSlots {
  private active = 0;
  private readonly byOwner = new Map<string, number>();

  constructor(
    readonly size: number,
    readonly perOwner: number = size,
    private readonly onFull: () => void = () => undefined,
    private readonly onFree: () => void = () => undefined,
  ) {}

  get inUse(): number {
    return this.active;
  }

  tryTake(owner?: string): 'taken' | 'full' | 'owner-share' {
    if (this.active >= this.size) return 'full';
    if (owner !== undefined) {
      const held = this.byOwner.get(owner) ?? 0;
      if (held >= this.perOwner) return 'owner-share';
      this.byOwner.set(owner, held + 1);
    }
    this.active++;
    if (this.active === this.size) this.onFull();
    return 'taken';
  }

  give(owner?: string): void {
    if (owner !== undefined) {
      const held = (this.byOwner.get(owner) ?? 1) - 1;
      if (held > 0) this.byOwner.set(owner, held);
      else this.byOwner.delete(owner);
    }
    this.active--;
    if (this.active === this.size - 1) this.onFree();
  }
}
