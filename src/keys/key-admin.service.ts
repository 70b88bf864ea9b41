import { Inject, Injectable, Optional } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hashKey } from '../auth/api-keys.service';
import { ApiError } from '../common/api-error';
import { newId } from '../common/ids';
import { isObject } from '../common/validation';
import { RedisBus } from '../infra/redis-bus.service';
import { BusChannel } from '../queue/jobs';
import type { ApiKeyRecord, KeyLimits } from './api-key.schema';
import { ApiKeysRepository } from './api-keys.repository';

/** OhMyGPT's RPM tiers, as a ladder to pick from when creating or updating a key. */
export const RPM_TIERS: Record<string, number> = { regular: 12, vip: 60, premium: 90 };

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

export interface KeyInput {
  userId?: unknown;
  name?: unknown;
  enabled?: unknown;
  tier?: unknown;
  rpm?: unknown;
  concurrency?: unknown;
}

/**
 * Key lifecycle for operators (admin API and CLI): create (the secret is returned once and
 * stored only as a SHA-256), list masked, update limits, revoke. Changes are announced on the bus
 * so every api replica drops its cached copy at once.
 */
@Injectable()
export class KeyAdminService {
  constructor(private readonly repo: ApiKeysRepository, @Optional() @Inject(RedisBus) private readonly bus: RedisBus | null) {}

  async create(input: KeyInput): Promise<KeyView & { secret: string }> {
    const userId = input.userId;
    if (typeof userId !== 'string' || !/^[A-Za-z0-9_.@-]{1,128}$/.test(userId)) {
      throw ApiError.badRequest("'user_id' must be 1-128 letters, digits or _ . @ -", 'user_id');
    }
    const secret = `sk-djq-${randomBytes(24).toString('hex')}`;
    const record = await this.repo.insert({
      keyId: newId('key_', 12),
      keyHash: hashKey(secret),
      prefix: secret.slice(0, 10),
      last4: secret.slice(-4),
      userId,
      name: nameOf(input.name) ?? '',
      enabled: true,
      limits: limitsOf(input, { rpm: null, concurrency: null }),
      lastUsedAt: null,
      revokedAt: null,
    });
    return { ...toView(record), secret };
  }

  async list(userId?: string): Promise<KeyView[]> {
    return (await this.repo.list(userId)).map(toView);
  }

  async update(keyId: string, input: KeyInput): Promise<KeyView> {
    const current = await this.repo.findById(keyId);
    if (!current) throw ApiError.notFound(`No API key with id '${keyId}'.`);
    const changes: Partial<Pick<ApiKeyRecord, 'name' | 'enabled' | 'limits'>> = { limits: limitsOf(input, current.limits) };
    const name = nameOf(input.name);
    if (name !== undefined) changes.name = name;
    if (input.enabled !== undefined) {
      if (typeof input.enabled !== 'boolean') throw ApiError.invalidType('enabled', 'a boolean', input.enabled);
      if (input.enabled && current.revokedAt) throw ApiError.badRequest('A revoked key cannot be enabled again; create a new one.', 'enabled');
      changes.enabled = input.enabled;
    }
    const updated = await this.repo.update(keyId, changes);
    await this.announce(current.keyHash);
    return toView(updated!);
  }

  async revoke(keyId: string): Promise<KeyView> {
    const current = await this.repo.findById(keyId);
    if (!current) throw ApiError.notFound(`No API key with id '${keyId}'.`);
    const updated = await this.repo.update(keyId, { enabled: false, revokedAt: current.revokedAt ?? new Date() });
    await this.announce(current.keyHash);
    return toView(updated!);
  }

  private async announce(keyHash: string): Promise<void> {
    // Best-effort: the cache TTL bounds how long a replica can miss it.
    await this.bus?.publish(BusChannel.KeyChanged, keyHash).catch(() => undefined);
  }
}

function nameOf(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > 128) throw ApiError.badRequest("'name' must be a string of at most 128 characters.", 'name');
  return v;
}

function limitsOf(input: KeyInput, current: KeyLimits): KeyLimits {
  const limits = { ...current };
  if (input.tier !== undefined) {
    if (typeof input.tier !== 'string' || !Object.hasOwn(RPM_TIERS, input.tier)) {
      throw ApiError.badRequest(`'tier' must be one of ${Object.keys(RPM_TIERS).join(', ')}.`, 'tier');
    }
    limits.rpm = RPM_TIERS[input.tier];
  }
  for (const field of ['rpm', 'concurrency'] as const) {
    const v = input[field];
    if (v === undefined) continue;
    if (v !== null && (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1_000_000)) {
      throw ApiError.badRequest(`'${field}' must be an integer from 1 to 1000000, or null for the default.`, field);
    }
    limits[field] = v as number | null;
  }
  return limits;
}

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

export function parseKeyInput(body: unknown): KeyInput {
  if (!isObject(body)) throw ApiError.badRequest('The request body must be a JSON object.');
  const { user_id, name, enabled, tier, rpm, concurrency, ...rest } = body;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw ApiError.badRequest(`Unknown parameter '${unknown[0]}'.`, unknown[0], 'unknown_parameter');
  return { userId: user_id, name, enabled, tier, rpm, concurrency };
}
