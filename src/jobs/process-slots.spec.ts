import { ProcessSlots } from './process-slots';

describe('ProcessSlots', () => {
  it('never lends more than its size, and tells when it fills up and frees again', () => {
    const events: string[] = [];
    const slots = new ProcessSlots(
      2,
      () => events.push('full'),
      () => events.push('free'),
    );
    expect(slots.tryTake()).toBe(true);
    expect(slots.tryTake()).toBe(true);
    expect(slots.tryTake()).toBe(false);
    expect(slots.inUse).toBe(2);
    slots.give();
    expect(slots.tryTake()).toBe(true);
    slots.give();
    slots.give();
    expect(slots.inUse).toBe(0);
    expect(events).toEqual(['full', 'free', 'full', 'free']);
  });
});
