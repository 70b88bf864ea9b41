/**
 * The bench's child processes: every one it starts (or adopts) is stopped at the end, on error, and killed on any
 * exit path; resident set size of a process.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { stopProcess as stopChild } from '../../test/support/stack';
import { sleep } from '../../test/support/wait';
import { pct } from './stats';

const children = new Set<ChildProcess>();
const extraPids = new Set<number>();

export interface Launched {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
}

/** Spawns a process whose stdout/stderr go to a log file; it is killed when the bench exits. */
export function launch(
  name: string,
  cmd: string,
  args: string[],
  env: Record<string, string>,
  logFile: string,
): Launched {
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, { env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (!child.pid) throw new Error(`could not start ${name}`);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return { name, child, pid: child.pid, logFile };
}

/** A process started elsewhere (the stack starter) that is killed when the bench exits, like those launched here. */
export function adoptChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Pids started elsewhere (provisionServices) that the bench must also end. */
export function adoptPid(pid: number): void {
  extraPids.add(pid);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone (bounded even if 'exit' never comes). */
export const stopProcess = (child: ChildProcess, graceMs = 3000): Promise<void> => stopChild(child, graceMs);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopProcess(c)));
  for (const pid of extraPids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone
    }
  }
  const deadline = Date.now() + 3000;
  while ([...extraPids].some(alive) && Date.now() < deadline) await sleep(100);
  for (const pid of extraPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  extraPids.clear();
}

/** Last resort on any exit path: nothing the bench started outlives it. */
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const pid of extraPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/** Resident set size in MiB, from /proc/<pid>/status (VmRSS). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/** Median of `n` RSS samples taken `everyMs` apart (smooths allocator jitter). */
export async function rssSample(pid: number, n = 5, everyMs = 200): Promise<number> {
  const v: number[] = [];
  for (let i = 0; i < n; i++) {
    v.push(rssMb(pid));
    if (i < n - 1) await sleep(everyMs);
  }
  return pct(v, 50);
}

/** Clock ticks per second of /proc's CPU times (getconf CLK_TCK; 100 on Linux). */
const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name (which may hold spaces) start with the state; utime and stime follow.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}
