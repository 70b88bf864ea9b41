/** What a fuzz file covered: the statuses seen per endpoint class and the slowest answer, printed at the end. */
import { RUNS, SEED } from './config';

/** Status counts per endpoint class, printed once at the end (what the run covered). */
const tally = new Map<string, Map<number, number>>();
const slowest = new Map<string, number>();

export function record(cls: string, status: number, ms: number): void {
  const counts = tally.get(cls) ?? new Map<number, number>();
  counts.set(status, (counts.get(status) ?? 0) + 1);
  tally.set(cls, counts);
  slowest.set(cls, Math.max(slowest.get(cls) ?? 0, ms));
}

export function printCoverage(): void {
  const lines = [...tally].map(
    ([cls, counts]) =>
      `${cls.padEnd(44)} ${[...counts]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}x${n}`)
        .join(' ')
        .padEnd(28)} slowest ${slowest.get(cls)} ms`,
  );
  if (lines.length)
    process.stdout.write(
      `\nfuzz coverage (seed ${SEED}, ${RUNS} runs per property), statuses per class:\n${lines.join('\n')}\n`,
    );
}
