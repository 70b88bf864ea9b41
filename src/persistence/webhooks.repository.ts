import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { WebhookDeliveryRecord, WebhookEndpointRecord } from '../domain/webhooks';
import { WEBHOOK_DELIVERY_MODEL, WEBHOOK_ENDPOINT_MODEL } from './webhook.schema';

type Plain<T> = T & { _id?: unknown };
const strip = <T>({ _id, ...rest }: Plain<T>): T => (void _id, rest as T);

export type EndpointChanges = Partial<
  Pick<WebhookEndpointRecord, 'url' | 'events' | 'enabled' | 'secret' | 'previousSecret' | 'previousSecretUntil'>
>;
export type NewDelivery = Omit<
  WebhookDeliveryRecord,
  'createdAt' | 'updatedAt' | 'status' | 'attempts' | 'lastHttpStatus' | 'lastError' | 'deliveredAt'
>;

/** Per-user webhook endpoints (operators' data: the admin API and the CLI reach them, never a /v1 caller). */
@Injectable()
export class WebhookEndpointsRepository {
  constructor(@InjectModel(WEBHOOK_ENDPOINT_MODEL) private readonly model: Model<WebhookEndpointRecord>) {}

  async insert(record: Omit<WebhookEndpointRecord, 'createdAt' | 'updatedAt'>): Promise<WebhookEndpointRecord> {
    return strip((await new this.model(record).save()).toObject() as Plain<WebhookEndpointRecord>);
  }

  async findById(endpointId: string): Promise<WebhookEndpointRecord | null> {
    const doc = await this.model.findOne({ endpointId }).lean<Plain<WebhookEndpointRecord>>().exec();
    return doc ? strip(doc) : null;
  }

  async list(userId?: string): Promise<WebhookEndpointRecord[]> {
    const docs = await this.model
      .find(userId ? { userId } : {})
      .sort({ createdAt: 1 })
      .lean<Plain<WebhookEndpointRecord>[]>()
      .exec();
    return docs.map(strip);
  }

  /** A user's enabled endpoints (the ones that get that user's events). */
  async enabledFor(userId: string): Promise<WebhookEndpointRecord[]> {
    if (!userId) throw new Error('userId is required in every filter');
    const docs = await this.model.find({ userId, enabled: true }).lean<Plain<WebhookEndpointRecord>[]>().exec();
    return docs.map(strip);
  }

  /** The users with at least one enabled endpoint (a handful of documents: endpoints are operators' data). */
  async usersWithEnabled(): Promise<Set<string>> {
    const docs = await this.model.find({ enabled: true }, { userId: 1 }).lean<{ userId: string }[]>().exec();
    return new Set(docs.map((d) => d.userId));
  }

  async update(endpointId: string, changes: EndpointChanges): Promise<WebhookEndpointRecord | null> {
    const doc = await this.model
      .findOneAndUpdate({ endpointId }, { $set: changes }, { returnDocument: 'after' })
      .lean<Plain<WebhookEndpointRecord>>()
      .exec();
    return doc ? strip(doc) : null;
  }

  async delete(endpointId: string): Promise<boolean> {
    return (await this.model.deleteOne({ endpointId }).exec()).deletedCount > 0;
  }
}

/** The delivery log: one document per (event, endpoint), the truth the delivery jobs work from. */
@Injectable()
export class WebhookDeliveriesRepository {
  constructor(@InjectModel(WEBHOOK_DELIVERY_MODEL) private readonly model: Model<WebhookDeliveryRecord>) {}

  /** Creates the delivery unless it exists (a re-dispatch after a lost enqueue finds it and leaves it as it is). */
  async ensure(d: NewDelivery): Promise<void> {
    const fresh = { status: 'pending', attempts: 0, lastHttpStatus: null, lastError: null, deliveredAt: null };
    await this.model
      .updateOne({ deliveryId: d.deliveryId }, { $setOnInsert: { ...d, ...fresh } }, { upsert: true })
      .exec();
  }

  async find(deliveryId: string): Promise<WebhookDeliveryRecord | null> {
    const doc = await this.model.findOne({ deliveryId }).lean<Plain<WebhookDeliveryRecord>>().exec();
    return doc ? strip(doc) : null;
  }

  /** Records an attempt's outcome on a delivery still pending (a delivered or failed one stays as it is). */
  async recordAttempt(
    deliveryId: string,
    outcome: Pick<WebhookDeliveryRecord, 'status' | 'lastHttpStatus' | 'lastError' | 'nextAttemptAt' | 'deliveredAt'>,
  ): Promise<boolean> {
    const res = await this.model
      .updateOne({ deliveryId, status: 'pending' }, { $set: outcome, $inc: { attempts: 1 } })
      .exec();
    return res.matchedCount > 0;
  }

  /** An endpoint's deliveries, newest first. */
  async listFor(endpointId: string, limit: number): Promise<WebhookDeliveryRecord[]> {
    const docs = await this.model
      .find({ endpointId })
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit)
      .lean<Plain<WebhookDeliveryRecord>[]>()
      .exec();
    return docs.map(strip);
  }

  /** SYSTEM USE ONLY (the recovery sweep): pending deliveries whose attempt was due before `before`. */
  async findOverdue(before: Date, limit: number): Promise<WebhookDeliveryRecord[]> {
    const docs = await this.model
      .find({ status: 'pending', nextAttemptAt: { $lt: before } })
      .sort({ nextAttemptAt: 1 })
      .limit(limit)
      .lean<Plain<WebhookDeliveryRecord>[]>()
      .exec();
    return docs.map(strip);
  }
}
