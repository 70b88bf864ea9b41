import { Module } from '@nestjs/common';
import { ConversationsService } from '../application/conversations.service';
import { ConversationsController } from '../http/conversations.controller';

@Module({ controllers: [ConversationsController], providers: [ConversationsService] })
export class ConversationsModule {}
