/**
 * One budget of WORKER_CONCURRENCY for everything a worker process runs, whichever queue a job came from. Each queue's
 * BullMQ worker may fetch up to the whole budget; when the budget is spent, `onFull` pauses the others' fetching and
 * `onFree` resumes it. A job fetched in the moment between is refused a slot and handed back (no attempt spent).
 */
export class ProcessSlots {
  private active = 0;

  constructor(
    readonly size: number,
    private readonly onFull: () => void = () => undefined,
    private readonly onFree: () => void = () => undefined,
  ) {}

  get inUse(): number {
    return this.active;
  }

  tryTake(): boolean {
    if (this.active >= this.size) return false;
    this.active++;
    if (this.active === this.size) this.onFull();
    return true;
  }

  give(): void {
    this.active--;
    if (this.active === this.size - 1) this.onFree();
  }
}
