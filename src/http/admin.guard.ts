import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '../config/app-config';
import { hashKey } from '../domain/api-key';
import { AppError } from '../domain/errors';
import { APP_CONFIG } from '../config/tokens';

/** The admin API answers only to `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.expected = config.adminToken ? Buffer.from(hashKey(config.adminToken), 'hex') : null;
  }

  canActivate(context: ExecutionContext): boolean {
    this.check(context.switchToHttp().getRequest<Request>().headers.authorization);
    return true;
  }

  /** Throws the 403 (admin API disabled) or 401 (wrong token) a request without the admin token gets. */
  check(header: unknown): void {
    if (!this.expected) throw new AppError('forbidden', 'The admin API is disabled: set ADMIN_TOKEN to enable it.');
    const token = typeof header === 'string' ? /^Bearer\s+(\S{1,512})\s*$/i.exec(header)?.[1] : undefined;
    if (!token || !timingSafeEqual(Buffer.from(hashKey(token), 'hex'), this.expected)) {
      throw AppError.unauthorized('A valid admin token is required.', 'invalid_admin_token');
    }
  }
}
