import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { CallRecordsRepository } from '../calls/call-records.repository';
import { RESPONSE_MODEL, type ResponseRecord } from './response.schema';

@Injectable()
export class ResponsesRepository extends CallRecordsRepository<ResponseRecord> {
  constructor(@InjectModel(RESPONSE_MODEL) model: Model<ResponseRecord>) {
    super(model, { inputItems: [], output: [] });
  }
}
