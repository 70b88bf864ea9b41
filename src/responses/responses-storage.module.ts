import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ResponseCallKind } from './response-call.kind';
import { ResponsesRepository } from './responses.repository';
import { RESPONSE_MODEL, ResponseSchema } from './response.schema';

@Module({
  imports: [MongooseModule.forFeature([{ name: RESPONSE_MODEL, schema: ResponseSchema }])],
  providers: [ResponsesRepository, ResponseCallKind],
  exports: [ResponsesRepository, ResponseCallKind],
})
export class ResponsesStorageModule {}
