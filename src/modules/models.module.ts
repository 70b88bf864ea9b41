import { Module } from '@nestjs/common';
import { ModelsService } from '../application/models.service';
import { ModelsController } from '../http/models.controller';

@Module({ controllers: [ModelsController], providers: [ModelsService] })
export class ModelsModule {}
