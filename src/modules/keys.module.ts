import { Global, Module } from '@nestjs/common';
import { ApiKeysService } from '../application/api-keys.service';
import { KeyAdminService } from '../application/key-admin.service';
import { AdminKeysController } from '../http/admin-keys.controller';
import { AdminGuard } from '../http/admin.guard';
import { AuthGuard } from '../http/auth.guard';

/** API keys as one feature: authentication of every /v1 call (global, for the guard), and the admin API. */
@Global()
@Module({
  controllers: [AdminKeysController],
  providers: [ApiKeysService, AuthGuard, KeyAdminService, AdminGuard],
  exports: [ApiKeysService, AuthGuard, AdminGuard],
})
export class KeysModule {}
