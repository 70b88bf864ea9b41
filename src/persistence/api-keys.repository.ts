import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { ApiKeyRecord } from '../domain/api-key';
import { API_KEY_MODEL } from './api-key.schema';

type Plain = ApiKeyRecord & { _id?: unknown };
const strip = ({ _id, ...rest }: Plain): ApiKeyRecord => (void _id, rest);

@Injectable()
export class ApiKeysRepository {
  constructor(@InjectModel(API_KEY_MODEL) private readonly model: Model<ApiKeyRecord>) {}

  async insert(record: Omit<ApiKeyRecord, 'createdAt' | 'updatedAt'>): Promise<ApiKeyRecord> {
    return strip((await new this.model(record).save()).toObject() as Plain);
  }

  async findByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    const doc = await this.model.findOne({ keyHash }).lean<Plain>().exec();
    return doc ? strip(doc) : null;
  }

  async findById(keyId: string): Promise<ApiKeyRecord | null> {
    const doc = await this.model.findOne({ keyId }).lean<Plain>().exec();
    return doc ? strip(doc) : null;
  }

  async list(userId?: string): Promise<ApiKeyRecord[]> {
    const docs = await this.model
      .find(userId ? { userId } : {})
      .sort({ createdAt: 1 })
      .lean<Plain[]>()
      .exec();
    return docs.map(strip);
  }

  async update(
    keyId: string,
    changes: Partial<Pick<ApiKeyRecord, 'name' | 'enabled' | 'limits' | 'revokedAt'>>,
  ): Promise<ApiKeyRecord | null> {
    const doc = await this.model
      .findOneAndUpdate({ keyId }, { $set: changes }, { returnDocument: 'after' })
      .lean<Plain>()
      .exec();
    return doc ? strip(doc) : null;
  }

  async touch(keyId: string, at: Date): Promise<void> {
    await this.model.updateOne({ keyId }, { $set: { lastUsedAt: at } }).exec();
  }
}
