/**
 * The create endpoints (POST /v1/responses, POST /v1/chat/completions) and the arbitraries of their bigger properties:
 * a wrong JSON type per known field, random values for every field, and valid bodies with random storable content.
 */
import fc from 'fast-check';
import {
  anyJson,
  nonArray,
  nonBoolean,
  nonObject,
  nonString,
  nonStringValueMetadata,
  someText,
  text,
  validChat,
  validResponse,
  wellFormed,
} from './arbitraries';

export const creates = [
  { name: 'responses', path: '/v1/responses', valid: validResponse as () => Record<string, unknown> },
  { name: 'chat', path: '/v1/chat/completions', valid: validChat as () => Record<string, unknown> },
];
export const createArb = fc.constantFrom(...creates);

/** A create endpoint, a known field, and a value of a wrong JSON type for it. */
export function wrongFieldTypes() {
  const responseFields: [string, fc.Arbitrary<unknown>][] = [
    ['model', nonString],
    [
      'input',
      fc.oneof(
        fc.integer(),
        fc.boolean(),
        fc.dictionary(text(8), anyJson, { maxKeys: 3 }),
        fc.array(fc.oneof(fc.integer(), text(), fc.constant(null), fc.array(anyJson, { maxLength: 2 })), {
          minLength: 1,
          maxLength: 3,
        }),
      ),
    ],
    ['background', nonBoolean],
    ['store', nonBoolean],
    ['stream', nonBoolean],
    ['instructions', nonString],
    ['metadata', fc.oneof(nonObject, nonStringValueMetadata)],
  ];
  const chatFields: [string, fc.Arbitrary<unknown>][] = [
    ['model', nonString],
    [
      'messages',
      fc.oneof(
        nonArray,
        fc.constant([]),
        fc.array(fc.oneof(fc.integer(), text(), fc.constant(null), fc.array(anyJson, { maxLength: 2 })), {
          minLength: 1,
          maxLength: 3,
        }),
      ),
    ],
    [
      'messages',
      fc
        .tuple(fc.oneof(text(10), fc.integer(), fc.constant(null)), anyJson)
        .map(([role, content]) => [{ role, content }]),
    ],
    [
      'messages',
      fc
        .oneof(
          fc.integer(),
          fc.boolean(),
          fc.dictionary(text(8), anyJson, { maxKeys: 2 }),
          fc.array(fc.oneof(fc.integer(), text(), fc.constant(null)), { minLength: 1, maxLength: 2 }),
        )
        .map((content) => [{ role: 'user', content }]),
    ],
    ['background', nonBoolean],
    ['store', nonBoolean],
    ['stream', nonBoolean],
    ['metadata', fc.oneof(nonObject, nonStringValueMetadata)],
  ];
  const arb = fc.oneof(
    fc
      .tuple(fc.constant(creates[0]), fc.constantFrom(...responseFields))
      .chain(([c, [field, values]]) => fc.tuple(fc.constant(c), fc.constant(field), values)),
    fc
      .tuple(fc.constant(creates[1]), fc.constantFrom(...chatFields))
      .chain(([c, [field, values]]) => fc.tuple(fc.constant(c), fc.constant(field), values)),
  );
  return arb;
}

/** A create endpoint and a body whose fields take random values (mostly well-typed), with random extra fields. */
export function randomFieldBodies() {
  // Mostly well-typed values (so that many runs get through to the queue), sometimes anything.
  const field = (valid: fc.Arbitrary<unknown>, optional = true) => {
    const values = fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: anyJson });
    return optional ? fc.option(values, { nil: undefined, freq: 3 }) : values;
  };
  const flag = fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.boolean() });
  const metadataValue = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.dictionary(
        text(12),
        someText.filter((v) => v.length <= 512),
        { maxKeys: 4 },
      ),
    },
    { weight: 1, arbitrary: fc.dictionary(text(70), fc.oneof(someText, anyJson), { maxKeys: 20 }) },
  );
  const responseBody = fc.record({
    model: field(fc.oneof(fc.constant('gpt-fuzz'), text(30)), false),
    input: field(
      fc.oneof(
        someText,
        fc.array(fc.record({ role: fc.constantFrom('user', 'assistant', 'system'), content: someText }), {
          maxLength: 3,
        }),
        fc.array(fc.dictionary(text(8), anyJson, { maxKeys: 4 }), { maxLength: 3 }),
      ),
      false,
    ),
    instructions: field(someText),
    background: field(flag),
    store: field(fc.boolean()),
    stream: field(fc.boolean()),
    metadata: field(metadataValue),
    previous_response_id: field(someText),
    extra: fc.dictionary(text(12), anyJson, { maxKeys: 4 }),
  });
  const chatBody = fc.record({
    model: field(fc.oneof(fc.constant('gpt-fuzz'), text(30)), false),
    messages: field(
      fc.array(
        fc.record({
          role: fc.oneof(
            { weight: 5, arbitrary: fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool', 'function') },
            { weight: 1, arbitrary: text(8) },
          ),
          content: fc.oneof(
            { weight: 4, arbitrary: someText },
            {
              weight: 2,
              arbitrary: fc.array(fc.record({ type: fc.constantFrom('text', 'image_url', 'x'), text: someText }), {
                maxLength: 2,
              }),
            },
            { weight: 1, arbitrary: anyJson },
          ),
          name: fc.option(someText, { nil: undefined }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      false,
    ),
    background: field(flag),
    store: field(fc.boolean()),
    stream: field(fc.boolean()),
    stream_options: field(fc.record({ include_usage: fc.boolean() })),
    metadata: field(metadataValue),
    extra: fc.dictionary(text(12), anyJson, { maxKeys: 4 }),
  });
  const arb = fc.oneof(fc.tuple(fc.constant(creates[0]), responseBody), fc.tuple(fc.constant(creates[1]), chatBody));
  return arb;
}

/** A create endpoint and a valid body with random unicode everywhere and random (storable) extra fields. */
export function validRandomBodies() {
  // Keys and values MongoDB (and FerretDB: no '$' prefix, no '.', no arrays directly in arrays) can store.
  const known = new Set([
    'model',
    'input',
    'instructions',
    'metadata',
    'background',
    'store',
    'stream',
    'prompt',
    'previous_response_id',
    'conversation',
    'messages',
    'stream_options',
  ]);
  const storableKey = text(12).filter(
    (k) =>
      k !== '' &&
      !k.includes('.') &&
      !k.startsWith('$') &&
      !k.includes('\u0000') &&
      !k.startsWith('mock_') &&
      !known.has(k) &&
      k === wellFormed(k),
  );
  const scalar = fc.oneof(
    someText,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
  );
  const { value: storable } = fc.letrec<{ value: unknown; object: Record<string, unknown>; array: unknown[] }>(
    (tie) => ({
      value: fc.oneof({ depthSize: 'small', maxDepth: 4 }, scalar, tie('object'), tie('array')),
      array: fc.array(fc.oneof(scalar, tie('object')), { maxLength: 3 }),
      object: fc.dictionary(storableKey, tie('value'), { maxKeys: 4 }),
    }),
  );
  const extra = fc.dictionary(storableKey, storable, { maxKeys: 4 });
  const metadata = fc.option(
    fc.dictionary(
      storableKey.filter((k) => k.length <= 64),
      text(40),
      { maxKeys: 16 },
    ),
    { nil: undefined },
  );
  const model = text(30).filter((m) => m !== '');
  const responseBody = fc.record({
    model,
    input: fc.oneof(
      someText,
      fc.array(
        fc.record({
          role: fc.constantFrom('user', 'assistant', 'system', 'developer'),
          content: fc.oneof(
            someText,
            fc.array(fc.record({ type: fc.constant('input_text'), text: someText }), { maxLength: 2 }),
          ),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    ),
    instructions: fc.option(someText, { nil: undefined }),
    metadata,
    background: fc.boolean(),
    stream: fc.boolean(),
    extra,
  });
  const chatBody = fc.record({
    model,
    messages: fc.array(
      fc.record({
        role: fc.constantFrom('system', 'developer', 'user', 'assistant'),
        content: fc.oneof(
          someText,
          fc.array(fc.record({ type: fc.constant('text'), text: someText }), { maxLength: 2 }),
        ),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    store: fc.option(fc.boolean(), { nil: undefined }),
    metadata,
    background: fc.boolean(),
    stream: fc.boolean(),
    extra,
  });
  const arb = fc.oneof(fc.tuple(fc.constant(creates[0]), responseBody), fc.tuple(fc.constant(creates[1]), chatBody));
  return arb;
}
