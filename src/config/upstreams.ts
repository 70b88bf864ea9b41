/**
 * UPSTREAMS (a JSON array) or UPSTREAMS_FILE (JSON or YAML), and UPSTREAM_BASE_URL / UPSTREAM_API_KEY as the single
 * default route. Every problem is reported with the entry and field it concerns; keys are never echoed.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Route, UpstreamProtocolName } from '../domain/routing';
import type { Env } from './env';

const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const PROTOCOLS: readonly UpstreamProtocolName[] = ['responses', 'chat'];
/** Headers we set ourselves: a route may not replace them. */
const OWN_HEADERS = new Set(['authorization', 'content-type', 'accept', 'content-length', 'host']);

type Entry = Record<string, unknown>;

export function parseUpstreams(env: Env, role: string, problems: string[]): Route[] {
  const routes: Route[] = [];
  const raw = readUpstreams(env, problems);
  raw.forEach((entry, i) => {
    const route = parseEntry(entry, `UPSTREAMS[${i}]`, env, role, problems);
    if (!route) return;
    if (routes.some((r) => r.name === route.name)) problems.push(`UPSTREAMS[${i}].name "${route.name}" is used twice`);
    else routes.push(route);
  });
  const base = env.UPSTREAM_BASE_URL?.trim();
  if (base) {
    if (!isHttpUrl(base)) problems.push('UPSTREAM_BASE_URL must be an http:// or https:// URL');
    else if (routes.some((r) => r.name === 'default'))
      problems.push('UPSTREAMS may not name a route "default" when UPSTREAM_BASE_URL is set');
    else routes.push({ ...defaults('default', base), apiKey: env.UPSTREAM_API_KEY?.trim() || undefined });
  }
  if (routes.length === 0 && role === 'worker') {
    problems.push('UPSTREAM_BASE_URL is required (or UPSTREAMS, or UPSTREAMS_FILE): the upstream to call');
  }
  return routes;
}

function readUpstreams(env: Env, problems: string[]): Entry[] {
  const inline = env.UPSTREAMS?.trim();
  const file = env.UPSTREAMS_FILE?.trim();
  if (inline && file) problems.push('UPSTREAMS and UPSTREAMS_FILE are both set: use one');
  let text = inline;
  if (!inline && file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      problems.push(`UPSTREAMS_FILE ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return [];
    }
  }
  if (!text) return [];
  let parsed: unknown;
  try {
    parsed = file && !inline && /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch {
    problems.push(
      `${inline ? 'UPSTREAMS' : 'UPSTREAMS_FILE'} is not valid ${file && !inline && /\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}`,
    );
    return [];
  }
  if (!Array.isArray(parsed) || parsed.some((e) => typeof e !== 'object' || e === null || Array.isArray(e))) {
    problems.push('UPSTREAMS must be an array of route objects');
    return [];
  }
  return parsed as Entry[];
}

function parseEntry(e: Entry, at: string, env: Env, role: string, problems: string[]): Route | null {
  const before = problems.length;
  const name = typeof e.name === 'string' && NAME.test(e.name) ? e.name : null;
  if (!name)
    problems.push(`${at}.name must be 1-32 lowercase letters, digits, _ or - (starting with a letter or digit)`);
  const baseUrl = typeof e.base_url === 'string' && isHttpUrl(e.base_url) ? e.base_url : null;
  if (!baseUrl) problems.push(`${at}.base_url must be an http:// or https:// URL`);
  const protocol = e.protocol === undefined ? 'responses' : PROTOCOLS.find((p) => p === e.protocol);
  if (!protocol) problems.push(`${at}.protocol must be "responses" or "chat"`);
  const models =
    Array.isArray(e.models) && e.models.length > 0 && e.models.every(isPattern) ? (e.models as string[]) : null;
  if (!models) problems.push(`${at}.models must be a non-empty array of model names, "prefix-*" patterns or "*"`);
  const apiKey = keyOf(e, at, env, role, problems);
  const maxConcurrency = optionalInt(e.max_concurrency, `${at}.max_concurrency`, 100_000, problems);
  const rpm = optionalInt(e.rpm, `${at}.rpm`, 10_000_000, problems);
  const headers = headersOf(e.headers, `${at}.headers`, problems);
  const known = new Set([
    'name',
    'base_url',
    'api_key',
    'api_key_env',
    'protocol',
    'models',
    'max_concurrency',
    'rpm',
    'headers',
  ]);
  for (const field of Object.keys(e)) if (!known.has(field)) problems.push(`${at}.${field} is not a route field`);
  if (problems.length > before) return null;
  return { ...defaults(name!, baseUrl!), apiKey, protocol: protocol!, models: models!, maxConcurrency, rpm, headers };
}

function keyOf(e: Entry, at: string, env: Env, role: string, problems: string[]): string | undefined {
  if (e.api_key !== undefined && e.api_key_env !== undefined)
    problems.push(`${at}: give api_key or api_key_env, not both`);
  if (e.api_key !== undefined) {
    if (typeof e.api_key !== 'string' || e.api_key === '') problems.push(`${at}.api_key must be a non-empty string`);
    return typeof e.api_key === 'string' ? e.api_key : undefined;
  }
  if (e.api_key_env === undefined) return undefined;
  if (typeof e.api_key_env !== 'string' || !/^[A-Z_][A-Z0-9_]*$/.test(e.api_key_env)) {
    problems.push(`${at}.api_key_env must name an environment variable`);
    return undefined;
  }
  const value = Object.hasOwn(env, e.api_key_env) ? env[e.api_key_env]?.trim() : undefined;
  // Only the worker sends keys; the api routes without them.
  if (!value && role === 'worker') problems.push(`${at}.api_key_env names ${e.api_key_env}, which is not set`);
  return value || undefined;
}

function headersOf(v: unknown, at: string, problems: string[]): Record<string, string> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    problems.push(`${at} must be an object of header names to strings`);
    return {};
  }
  const entries = Object.entries(v);
  for (const [k, val] of entries) {
    if (!/^[A-Za-z0-9-]{1,64}$/.test(k) || typeof val !== 'string')
      problems.push(`${at}["${k.slice(0, 64)}"] must be a string`);
    else if (OWN_HEADERS.has(k.toLowerCase())) problems.push(`${at} may not set ${k} (the service sets it)`);
  }
  return Object.fromEntries(entries.filter(([, val]) => typeof val === 'string')) as Record<string, string>;
}

function optionalInt(v: unknown, at: string, max: number, problems: string[]): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    problems.push(`${at} must be an integer from 1 to ${max}`);
    return null;
  }
  return v;
}

const isPattern = (p: unknown) => typeof p === 'string' && /^[^*\s]{0,256}\*?$/.test(p) && p !== '';
const defaults = (name: string, baseUrl: string) => ({
  name,
  baseUrl,
  apiKey: undefined,
  protocol: 'responses' as const,
  models: ['*'],
  maxConcurrency: null,
  rpm: null,
  headers: {},
});

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password;
  } catch {
    return false;
  }
}
