import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../infra/tokens';

export interface Caller {
  userId: string;
}

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/**
 * Resolves a bearer key to its owner. Keys are held only as SHA-256 hashes, so the plain keys
 * from API_KEYS do not stay in memory structures that could be dumped or logged.
 */
@Injectable()
export class ApiKeysService {
  private readonly byHash = new Map<string, Caller>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    for (const [key, userId] of config.apiKeys) this.byHash.set(hashKey(key), { userId });
  }

  authenticate(key: string): Caller | null {
    return this.byHash.get(hashKey(key)) ?? null;
  }
}
