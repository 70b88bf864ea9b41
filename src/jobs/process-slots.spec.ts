import { ProcessSlots } from './process-slots';

describe('ProcessSlots', () => {
  it('never lends more than its size, and tells when it fills up and frees again', () => {
    const events: string[] = [];
    const slots = new ProcessSlots(
      2,
      2,
      () => events.push('full'),
      () => events.push('free'),
    );
    expect(slots.tryTake()).toBe('taken');
    expect(slots.tryTake()).toBe('taken');
    expect(slots.tryTake()).toBe('full');
    expect(slots.inUse).toBe(2);
    slots.give();
    expect(slots.tryTake()).toBe('taken');
    slots.give();
    slots.give();
    expect(slots.inUse).toBe(0);
    expect(events).toEqual(['full', 'free', 'full', 'free']);
  });

  it('keeps slots free for other owners: one owner holds at most its share', () => {
    const slots = new ProcessSlots(4, 3);
    expect(['a', 'a', 'a', 'a'].map((o) => slots.tryTake(o))).toEqual(['taken', 'taken', 'taken', 'owner-share']);
    expect(slots.tryTake('b')).toBe('taken');
    expect(slots.tryTake('c')).toBe('full');
    slots.give('a');
    expect(slots.tryTake('a')).toBe('taken');
    slots.give('b');
    expect(slots.tryTake('a')).toBe('owner-share');
    expect(slots.tryTake()).toBe('taken');
  });
});
