import mongoose from 'mongoose';
import { type CallRecord, newCallRecord, newResponseFields } from '../domain/call';
import { stamped, tombstoneOf } from '../domain/ephemeral';
import { toInputItems } from '../domain/input-items';
import { ChatCompletionSchema } from './chat-completion.schema';
import { ResponseSchema } from './response.schema';

/**
 * The repository writes records with the driver as they are (no mongoose document on the way): that is only right
 * while what the builders make is what mongoose would have stored. A field added to a schema but not to a builder,
 * or of another type, fails here.
 */
const conn = mongoose.createConnection();
const Chat = conn.model('SpecChat', ChatCompletionSchema);
const Responses = conn.model('SpecResponse', ResponseSchema);

/** What the test needs of a mongoose model: a document made from a plain object. */
type Builds = new (doc: object) => { validateSync(): unknown; toObject(): unknown };

function asMongooseStores(model: Builds, doc: object): object {
  const made = new model(doc);
  // Nothing required is missing...
  expect(made.validateSync()).toBeUndefined();
  // ...and the cast neither adds a default nor changes a type.
  const { _id, ...rest } = made.toObject() as Record<string, unknown>;
  void _id;
  return rest;
}

const fields = {
  userId: 'u1',
  keyId: 'key_1',
  responseId: 'resp_1',
  requestId: 'req_1',
  reqBodyHash: 'h',
  userAgent: 'ua',
  reqIp: '127.0.0.1',
  request: { model: 'm', input: 'hi', metadata: { a: 'b' } },
  model: 'm',
  metadata: { a: 'b' },
  background: true,
  store: true,
  route: 'default',
};

describe('records as the builders make them are what mongoose would store', () => {
  afterAll(() => conn.close());

  it('a chat completion, and its tombstone', () => {
    const record = stamped<CallRecord>(newCallRecord({ ...fields, responseId: 'chatcmpl-1' }));
    expect(asMongooseStores(Chat, record)).toEqual(record);
    const tombstone = tombstoneOf(record, {});
    expect(asMongooseStores(Chat, tombstone)).toEqual(tombstone);
  });

  it('a response, in a chain or not, and its tombstone', () => {
    for (const place of [
      { previousResponseId: null, chain: [], conversationId: null },
      { previousResponseId: 'resp_0', chain: ['resp_00', 'resp_0'], conversationId: null },
    ]) {
      const record = stamped({ ...newCallRecord(fields), ...newResponseFields(toInputItems('hi'), place) });
      expect(asMongooseStores(Responses, record)).toEqual(record);
      const tombstone = tombstoneOf(record, { inputItems: [], output: [] });
      expect(asMongooseStores(Responses, tombstone)).toEqual(tombstone);
    }
  });
});
