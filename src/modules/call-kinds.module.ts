import { Global, Module } from '@nestjs/common';
import { ChatCalls, ResponseCalls } from '../application/call-kinds';

/** The kinds of call, for both roles. */
@Global()
@Module({ providers: [ResponseCalls, ChatCalls], exports: [ResponseCalls, ChatCalls] })
export class CallKindsModule {}
