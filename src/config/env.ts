/**
 * Reading and checking environment values: each problem is collected with the variable's name, what was expected
 * and what was given (secrets only by their length), so a bad configuration is reported whole at boot.
 */
import type { Price, PriceTable } from '../domain/pricing';

export type Env = Record<string, string | undefined>;

/** `key:userId,key:userId`; the key may itself contain ':', so the last ':' separates. */
export function parseApiKeys(raw: string | undefined, required: boolean, problems: string[]): Map<string, string> {
  const keys = new Map<string, string>();
  const value = raw?.trim() ?? '';
  if (value === '') {
    if (required)
      problems.push(
        'API_KEYS is required: a comma-separated list of key:userId pairs, e.g. "sk-local-1:alice,sk-local-2:bob"',
      );
    return keys;
  }
  value.split(',').forEach((entry, i) => {
    const pair = entry.trim();
    const at = pair.lastIndexOf(':');
    const key = at > 0 ? pair.slice(0, at) : '';
    const userId = at > 0 ? pair.slice(at + 1) : '';
    if (!key || !userId || /\s/.test(key)) {
      problems.push(
        `API_KEYS entry ${i + 1} must look like key:userId with no spaces in the key (got ${describe(pair)})`,
      );
    } else if (!/^[A-Za-z0-9_.@-]{1,128}$/.test(userId)) {
      problems.push(`API_KEYS entry ${i + 1}: userId must be 1-128 letters, digits or _ . @ - (got "${userId}")`);
    } else if (keys.has(key)) {
      problems.push(`API_KEYS entry ${i + 1} repeats a key that was already listed`);
    } else {
      keys.set(key, userId);
    }
  });
  return keys;
}

/** A Redis Cluster seed node. */
export interface RedisNode {
  host: string;
  port: number;
}

/** REDIS_CLUSTER_NODES: `host:port,host:port` (IPv6 hosts in brackets); unset means a single Redis at REDIS_URL. */
export function parseClusterNodes(raw: string | undefined, problems: string[]): RedisNode[] {
  const value = raw?.trim() ?? '';
  if (value === '') return [];
  const nodes: RedisNode[] = [];
  value.split(',').forEach((entry, i) => {
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253}):(\d{1,5})$/.exec(entry.trim());
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535)
      problems.push(`REDIS_CLUSTER_NODES entry ${i + 1} must look like host:port (got "${entry.trim().slice(0, 80)}")`);
    else nodes.push({ host: m[1].replace(/^\[(.*)\]$/, '$1'), port });
  });
  return nodes;
}

export function parseTrustProxy(raw: string | undefined, problems: string[]): boolean | number | string {
  const value = raw?.trim();
  if (!value || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  if (/^[0-9a-fA-F.:/, a-z]+$/.test(value)) return value; // IPs, CIDRs or names like "loopback"
  problems.push(`TRUST_PROXY must be true, false, a hop count or a list of addresses (got ${describe(value)})`);
  return false;
}

/** Secrets may be in the value, so error messages show only its length. */
function describe(value: string): string {
  return value === '' ? 'an empty value' : `a value of ${value.length} characters`;
}

export class Reader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  str(name: string): string | undefined {
    const v = Object.hasOwn(this.env, name) ? this.env[name]?.trim() : undefined;
    return v === '' ? undefined : v;
  }

  /** A secret: only its length is ever echoed in a message. */
  secret(name: string, minLength: number): string | undefined {
    const v = this.str(name);
    if (v !== undefined && v.length < minLength)
      this.problems.push(`${name} must be at least ${minLength} characters (got ${describe(v)})`);
    return v;
  }

  int(name: string, o: { def: number; min: number; max: number }): number {
    const v = this.str(name);
    if (v === undefined) return o.def;
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || n < o.min || n > o.max) {
      this.problems.push(`${name} must be an integer from ${o.min} to ${o.max} (got "${v}")`);
      return o.def;
    }
    return n;
  }

  url(name: string, protocols: string[], o: { required: boolean }): string {
    const v = this.str(name);
    if (v === undefined) {
      if (o.required) this.problems.push(`${name} is required (a ${protocols.join(' or ')}// URL)`);
      return '';
    }
    let ok = false;
    try {
      ok = protocols.includes(new URL(v).protocol);
    } catch {
      ok = false;
    }
    // The value may carry a password, so it is not echoed back.
    if (!ok)
      this.problems.push(
        `${name} must be a ${protocols.join(' or ')}// URL (got ${describe(v)} that does not parse as one)`,
      );
    return v;
  }

  match(name: string, re: RegExp, what: string, def: string): string {
    const v = this.str(name);
    if (v === undefined) return def;
    if (!re.test(v)) {
      this.problems.push(`${name} must be ${what} (got "${v}")`);
      return def;
    }
    return v;
  }

  oneOf(name: string, values: string[], def: string): string {
    const v = this.str(name);
    if (v === undefined) return def;
    if (!values.includes(v)) {
      this.problems.push(`${name} must be one of ${values.join(', ')} (got "${v}")`);
      return def;
    }
    return v;
  }
}

/** PRICE_TABLE: JSON like {"gpt-4o-mini":{"input":150,"output":600}}, coins per million tokens. */
export function parsePriceTable(raw: string | undefined, problems: string[]): PriceTable {
  const table = new Map<string, Price>();
  if (!raw || raw.trim() === '') return table;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push(
      'PRICE_TABLE must be JSON like {"gpt-4o-mini":{"input":150,"output":600}} (coins per million tokens)',
    );
    return table;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push('PRICE_TABLE must be a JSON object of model -> {input, output}');
    return table;
  }
  const ok = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  for (const [model, price] of Object.entries(parsed)) {
    const p = price as { input?: unknown; output?: unknown };
    if (!ok(p?.input) || !ok(p?.output)) {
      problems.push(`PRICE_TABLE["${model}"] must be {"input": <coins>, "output": <coins>} with numbers >= 0`);
      continue;
    }
    table.set(model, { input: p.input as number, output: p.output as number });
  }
  return table;
}
