import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ModelsService } from '../application/models.service';
import type { JsonObject } from '../domain/json';
import { AuthGuard } from './auth.guard';

@Controller('v1/models')
@UseGuards(AuthGuard)
export class ModelsController {
  constructor(private readonly models: ModelsService) {}

  @Get()
  list(): Promise<JsonObject> {
    return this.models.list();
  }

  @Get(':id')
  retrieve(@Param('id') id: string): Promise<JsonObject> {
    return this.models.retrieve(id);
  }
}
