import { Inject, Injectable, Optional } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { type ApiKeyRecord, hashKey, type KeyLimits, type KeyView, RPM_TIERS, toView } from '../domain/api-key';
import { AppError } from '../domain/errors';
import { newId } from '../domain/ids';
import type { KeyFields } from '../domain/requests/keys.request';
import { BusChannel } from '../infra/jobs';
import { RedisBus } from '../infra/redis-bus.service';
import { ApiKeysRepository } from '../persistence/api-keys.repository';

/**
 * Key lifecycle for operators (admin API and CLI): create (the secret is returned once and stored only as a SHA-256),
 * list masked, update limits, revoke. Changes are announced on the bus so every api replica drops its cached copy at
 * once. Input arrives validated (domain/requests/keys.request).
 */
@Injectable()
export class KeyAdminService {
  constructor(
    private readonly repo: ApiKeysRepository,
    @Optional() @Inject(RedisBus) private readonly bus: RedisBus | null,
  ) {}

  async create(input: KeyFields): Promise<KeyView & { secret: string }> {
    const secret = `sk-djq-${randomBytes(24).toString('hex')}`;
    const record = await this.repo.insert({
      keyId: newId('key_', 12),
      keyHash: hashKey(secret),
      prefix: secret.slice(0, 10),
      last4: secret.slice(-4),
      userId: input.user_id!,
      name: input.name ?? '',
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

  async update(keyId: string, input: KeyFields): Promise<KeyView> {
    const current = await this.repo.findById(keyId);
    if (!current) throw notFound(keyId);
    const changes: Partial<Pick<ApiKeyRecord, 'name' | 'enabled' | 'limits'>> = {
      limits: limitsOf(input, current.limits),
    };
    if (input.name !== undefined) changes.name = input.name;
    if (input.enabled !== undefined) {
      if (input.enabled && current.revokedAt) {
        throw AppError.badRequest('A revoked key cannot be enabled again; create a new one.', 'enabled');
      }
      changes.enabled = input.enabled;
    }
    const updated = await this.repo.update(keyId, changes);
    await this.announce(current.keyHash);
    return toView(updated!);
  }

  async revoke(keyId: string): Promise<KeyView> {
    const current = await this.repo.findById(keyId);
    if (!current) throw notFound(keyId);
    const updated = await this.repo.update(keyId, { enabled: false, revokedAt: current.revokedAt ?? new Date() });
    await this.announce(current.keyHash);
    return toView(updated!);
  }

  private async announce(keyHash: string): Promise<void> {
    // Best-effort: the cache TTL bounds how long a replica can miss it.
    await this.bus?.publish(BusChannel.KeyChanged, keyHash).catch(() => undefined);
  }
}

const notFound = (keyId: string) => AppError.notFound(`No API key with id '${keyId}'.`);

/** A tier sets the RPM from the ladder; explicit values win over it; null means back to the default. */
function limitsOf(input: KeyFields, current: KeyLimits): KeyLimits {
  const limits = { ...current };
  if (input.tier !== undefined) limits.rpm = RPM_TIERS.get(input.tier) ?? null;
  if (input.rpm !== undefined) limits.rpm = input.rpm;
  if (input.concurrency !== undefined) limits.concurrency = input.concurrency;
  return limits;
}
