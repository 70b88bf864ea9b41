import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ChatCallKind } from './chat-call.kind';
import { CHAT_COMPLETION_MODEL, ChatCompletionSchema } from './chat-completion.schema';
import { ChatCompletionsRepository } from './chat-completions.repository';

@Module({
  imports: [MongooseModule.forFeature([{ name: CHAT_COMPLETION_MODEL, schema: ChatCompletionSchema }])],
  providers: [ChatCompletionsRepository, ChatCallKind],
  exports: [ChatCompletionsRepository, ChatCallKind],
})
export class ChatStorageModule {}
