import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { ResponseRecord } from '../domain/call';
import { CallRecordsRepository } from './call-records.repository';
import { RESPONSE_MODEL } from './response.schema';

@Injectable()
export class ResponsesRepository extends CallRecordsRepository<ResponseRecord> {
  constructor(@InjectModel(RESPONSE_MODEL) model: Model<ResponseRecord>) {
    super(model, { inputItems: [], output: [] });
  }
}
