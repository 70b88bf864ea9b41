import { parseSse, type SseEvent } from './sse';

async function collect(parts: string[]): Promise<SseEvent[]> {
  async function* gen() {
    for (const p of parts) yield Buffer.from(p);
  }
  const out: SseEvent[] = [];
  for await (const e of parseSse(gen())) out.push(e);
  return out;
}

describe('parseSse', () => {
  it('splits events across arbitrary chunk boundaries and line endings', async () => {
    const events = await collect([
      'event: a\ndata: {"x"',
      ':1}\n\n: keepalive\n\n',
      'data: one\r\ndata: two\r\n\r\n',
      'data: [DONE]\n\n',
    ]);
    expect(events).toEqual([
      { event: 'a', data: '{"x":1}' },
      { event: null, data: 'one\ntwo' },
      { event: null, data: '[DONE]' },
    ]);
  });

  it('keeps multi-byte characters split between chunks', async () => {
    const bytes = Buffer.from('data: héllo ✓\n\n');
    async function* gen() {
      yield bytes.subarray(0, 9);
      yield bytes.subarray(9);
    }
    const out: SseEvent[] = [];
    for await (const e of parseSse(gen())) out.push(e);
    expect(out).toEqual([{ event: null, data: 'héllo ✓' }]);
  });

  it('yields a final event without a trailing blank line', async () => {
    expect(await collect(['data: last'])).toEqual([{ event: null, data: 'last' }]);
  });
});
