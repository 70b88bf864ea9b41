/**
 * The report: the table on stdout, bench/results/latest.json (every figure, per-command counts, the RSS trace) and
 * bench/RESULTS.md (the table, date, machine, method).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { BENCH, C, PEER, ROOT, t0 } from './config';
import type { Ctx } from './context';
import * as L from './lib';
import { METHOD } from './method';
import { buildRows, type Results, type Row } from './report-rows';

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const redisVersion = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? 'unknown';
  const git =
    spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() || 'unknown';
  let peerVersion = 'not installed';
  try {
    peerVersion = (
      JSON.parse(readFileSync(join(PEER, 'node_modules', '@portkey-ai', 'gateway', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    // not installed
  }
  return {
    cpu: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    cores: os.cpus().length,
    ramGiB: L.round(Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0) / 1024 / 1024, 1),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    redis: redisVersion,
    gitCommit: git,
    portkeyGateway: peerVersion,
  };
}

const metStr = (m: boolean | null) => (m === null ? '-' : m ? 'yes' : 'NO');

function textTable(rows: Row[]): string {
  const head = ['measurement', 'ours', 'baseline / peer', 'ratio', 'target', 'met?'];
  const cells = rows.map((r) => [r.measurement, r.ours, r.baseline, r.ratio, r.target, metStr(r.met)]);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(w[i])).join(' | ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('-+-'), ...cells.map(line)].join('\n');
}

function mdTable(rows: Row[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| measurement | ours | baseline / peer | ratio | target | met? |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) => `| ${[r.measurement, r.ours, r.baseline, r.ratio, r.target, metStr(r.met)].map(esc).join(' | ')} |`,
    ),
  ].join('\n');
}

/** Prints the table and writes bench/results/latest.json and bench/RESULTS.md. */
export function writeReport({
  results,
  errors,
  ctx,
  work,
}: {
  results: Results;
  errors: string[];
  ctx: Ctx | null;
  work: string;
}): void {
  const rows = buildRows(results);
  const seconds = L.round((Date.now() - t0) / 1000, 1);
  const date = new Date().toISOString();
  const info = machine();
  const table = textTable(rows);
  process.stdout.write(`\n${table}\n\n`);
  const metCount = rows.filter((r) => r.met === true).length;
  const missCount = rows.filter((r) => r.met === false).length;
  process.stdout.write(`targets met: ${metCount}, missed: ${missCount}; total run time ${seconds} s\n`);
  if (ctx?.peerError) process.stdout.write(`peer: ${ctx.peerError}\n`);
  if (errors.length) process.stdout.write(`errors:\n${errors.map((e) => `  - ${e.split('\n')[0]}`).join('\n')}\n`);

  mkdirSync(join(BENCH, 'results'), { recursive: true });
  const json = {
    date,
    seconds,
    machine: info,
    services: ctx
      ? {
          redis: 'redis-server (dedicated, started by the bench)',
          mongo: ctx.mongoKind,
          peer: ctx.peerUrl ? `@portkey-ai/gateway ${info.portkeyGateway}` : ctx.peerError,
        }
      : null,
    config: C,
    table: rows,
    results,
    errors,
  };
  writeFileSync(join(BENCH, 'results', 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
  const md = [
    '# Benchmark results (`npm run bench`)',
    '',
    `Date: ${date} — total run time ${seconds} s — commit ${info.gitCommit}`,
    '',
    `Machine: ${info.cpu}, ${info.cores} cores, ${info.ramGiB} GiB RAM, Node ${info.node}, ${info.os}; ` +
      `${info.redis.split(' ').slice(0, 3).join(' ')}; MongoDB wire server: ${ctx?.mongoKind ?? 'n/a'}; ` +
      `peer: Portkey gateway ${info.portkeyGateway}.`,
    '',
    mdTable(rows),
    '',
    `Targets met: ${metCount}, missed: ${missCount}.` +
      `${errors.length ? ` Errors: ${errors.map((e) => e.split('\n')[0]).join('; ')}` : ''}`,
    '',
    METHOD,
    '',
    'Raw figures (every percentile, per-command counts): `bench/results/latest.json`.',
    '',
  ].join('\n');
  writeFileSync(join(BENCH, 'RESULTS.md'), md);
  if (errors.length) process.stdout.write(`logs kept in ${work}/logs\n`);
}
