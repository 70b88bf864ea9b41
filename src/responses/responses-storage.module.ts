import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ResponsesRepository } from './responses.repository';
import { RESPONSE_MODEL, ResponseSchema } from './response.schema';

@Module({
  imports: [MongooseModule.forFeature([{ name: RESPONSE_MODEL, schema: ResponseSchema }])],
  providers: [ResponsesRepository],
  exports: [ResponsesRepository],
})
export class ResponsesStorageModule {}
