import { type CanActivate, Body, Controller, Delete, type ExecutionContext, Get, HttpCode, Inject, Injectable, Param, Post, Query, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { hashKey } from '../auth/api-keys.service';
import type { AppConfig } from '../config/app-config';
import { ApiError } from '../common/api-error';
import { APP_CONFIG } from '../infra/tokens';
import { KeyAdminService, type KeyView, parseKeyInput } from './key-admin.service';

/** The admin API answers only to `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.expected = config.adminToken ? Buffer.from(hashKey(config.adminToken), 'hex') : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) throw new ApiError(403, 'The admin API is disabled: set ADMIN_TOKEN to enable it.', 'invalid_request_error');
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const token = /^Bearer\s+(\S{1,512})\s*$/i.exec(header)?.[1];
    if (!token || !timingSafeEqual(Buffer.from(hashKey(token), 'hex'), this.expected)) {
      throw ApiError.unauthorized('A valid admin token is required.', 'invalid_admin_token');
    }
    return true;
  }
}

@Controller('admin/keys')
@UseGuards(AdminGuard)
export class AdminKeysController {
  constructor(private readonly keys: KeyAdminService) {}

  /** Creates a key; the answer carries the secret, the only time it is ever shown. */
  @Post()
  @HttpCode(200)
  create(@Body() body: unknown): Promise<KeyView & { secret: string }> {
    return this.keys.create(parseKeyInput(body));
  }

  @Get()
  async list(@Query('user_id') userId?: unknown): Promise<{ object: 'list'; data: KeyView[] }> {
    // `user_id[x]=` or a repeated `user_id` must not widen the list to every user's keys.
    if (userId !== undefined && typeof userId !== 'string') throw ApiError.invalidType('user_id', 'a string', userId);
    return { object: 'list', data: await this.keys.list(userId) };
  }

  @Post(':id')
  @HttpCode(200)
  update(@Param('id') id: string, @Body() body: unknown): Promise<KeyView> {
    return this.keys.update(id, parseKeyInput(body));
  }

  @Delete(':id')
  @HttpCode(200)
  revoke(@Param('id') id: string): Promise<KeyView> {
    return this.keys.revoke(id);
  }
}
