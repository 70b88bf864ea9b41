import { Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { KeyAdminService } from '../application/key-admin.service';
import type { KeyView } from '../domain/api-key';
import type { Validated } from '../domain/request-context';
import { createKeySchema, type KeyFields, keyListQuerySchema, updateKeySchema } from '../domain/requests/keys.request';
import { AdminGuard } from './admin.guard';
import { ValidBody, ValidQuery } from './validated';

@Controller('admin/keys')
@UseGuards(AdminGuard)
export class AdminKeysController {
  constructor(private readonly keys: KeyAdminService) {}

  /** Creates a key; the answer carries the secret, the only time it is ever shown. */
  @Post()
  @HttpCode(200)
  create(@ValidBody(createKeySchema) body: Validated<KeyFields>): Promise<KeyView & { secret: string }> {
    return this.keys.create(body.value);
  }

  @Get()
  async list(
    @ValidQuery(keyListQuerySchema) query: { user_id?: string },
  ): Promise<{ object: 'list'; data: KeyView[] }> {
    return { object: 'list', data: await this.keys.list(query.user_id) };
  }

  @Post(':id')
  @HttpCode(200)
  update(@Param('id') id: string, @ValidBody(updateKeySchema) body: Validated<KeyFields>): Promise<KeyView> {
    return this.keys.update(id, body.value);
  }

  @Delete(':id')
  @HttpCode(200)
  revoke(@Param('id') id: string): Promise<KeyView> {
    return this.keys.revoke(id);
  }
}
