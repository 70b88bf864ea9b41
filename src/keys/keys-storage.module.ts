import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { API_KEY_MODEL, ApiKeySchema } from './api-key.schema';
import { ApiKeysRepository } from './api-keys.repository';

@Module({
  imports: [MongooseModule.forFeature([{ name: API_KEY_MODEL, schema: ApiKeySchema }])],
  providers: [ApiKeysRepository],
  exports: [ApiKeysRepository],
})
export class KeysStorageModule {}
