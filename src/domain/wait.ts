/** Resolves after `ms`, or as soon as `woke` resolves or `signal` aborts, whichever is first. */
export function sleepOrWake(woke: Promise<void>, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    void woke.then(done);
  });
}
