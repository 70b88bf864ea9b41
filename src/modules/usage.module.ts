import { Module } from '@nestjs/common';
import { UsageService } from '../application/usage.service';
import { UsageController } from '../http/usage.controller';

@Module({ controllers: [UsageController], providers: [UsageService] })
export class UsageModule {}
