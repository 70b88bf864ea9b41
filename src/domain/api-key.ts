import { createHash } from 'node:crypto';

/** Per-key overrides of the configured defaults; null means "use the default". */
export interface KeyLimits {
  rpm: number | null;
  concurrency: number | null;
}

/** An API key as stored: only its SHA-256, never the secret itself. */
export interface ApiKeyRecord {
  keyId: string;
  keyHash: string;
  /** The first characters and the last four, to recognise a key in lists. */
  prefix: string;
  last4: string;
  userId: string;
  name: string;
  enabled: boolean;
  limits: KeyLimits;
  createdAt: Date;
  updatedAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** OhMyGPT's RPM tiers, as a ladder to pick from when creating or updating a key. */
export const RPM_TIERS: ReadonlyMap<string, number> = new Map([
  ['regular', 12],
  ['vip', 60],
  ['premium', 90],
]);

export interface KeyView {
  id: string;
  object: 'api_key';
  user_id: string;
  name: string;
  /** Masked: the first characters and the last four. */
  key: string;
  enabled: boolean;
  limits: KeyLimits;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

const secs = (d: Date | null) => (d ? Math.floor(new Date(d).getTime() / 1000) : null);

export function toView(r: ApiKeyRecord): KeyView {
  return {
    id: r.keyId,
    object: 'api_key',
    user_id: r.userId,
    name: r.name,
    key: `${r.prefix}...${r.last4}`,
    enabled: r.enabled,
    limits: r.limits,
    created_at: secs(r.createdAt)!,
    last_used_at: secs(r.lastUsedAt),
    revoked_at: secs(r.revokedAt),
  };
}
