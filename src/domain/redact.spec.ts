import { redactSecrets } from './redact';

describe('redactSecrets', () => {
  it('removes configured keys wherever they appear, and bearer tokens of any kind', () => {
    const text = 'bad key sk-upstream-1234 (header was "Authorization: Bearer sk-upstream-1234"); also bearer abc.def';
    const out = redactSecrets(text, ['sk-upstream-1234']);
    expect(out).not.toContain('sk-upstream-1234');
    expect(out).not.toContain('abc.def');
    expect(out).toBe('bad key [redacted] (header was "Authorization: Bearer [redacted]"); also Bearer [redacted]');
  });

  it('keeps ordinary text and cuts very long text', () => {
    expect(redactSecrets("Invalid 'model'.", ['sk-x-0001'])).toBe("Invalid 'model'.");
    expect(redactSecrets('x'.repeat(5000), []).length).toBeLessThanOrEqual(1001);
  });
});
