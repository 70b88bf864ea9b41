import { Module } from '@nestjs/common';
import { ChatCompletionsService } from '../application/chat-completions.service';
import { ChatCompletionsController } from '../http/chat-completions.controller';
import { CallsModule } from './calls.module';

@Module({ imports: [CallsModule], controllers: [ChatCompletionsController], providers: [ChatCompletionsService] })
export class ChatModule {}
