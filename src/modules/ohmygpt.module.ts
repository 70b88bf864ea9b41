import { Module } from '@nestjs/common';
import { OhMyGptStoreService } from '../application/ohmygpt-store.service';
import { OhMyGptStoreController } from '../http/ohmygpt-store.controller';
import { CallsModule } from './calls.module';

/** OhMyGPT's store endpoints over the stored chat completions. */
@Module({ imports: [CallsModule], controllers: [OhMyGptStoreController], providers: [OhMyGptStoreService] })
export class OhMyGptModule {}
