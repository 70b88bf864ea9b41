import { Module } from '@nestjs/common';
import { ResponsesService } from '../application/responses.service';
import { TurnContext } from '../application/turn-context.service';
import { ResponsesController } from '../http/responses.controller';
import { CallsModule } from './calls.module';

@Module({ imports: [CallsModule], controllers: [ResponsesController], providers: [ResponsesService, TurnContext] })
export class ResponsesModule {}
