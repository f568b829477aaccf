import { describe, expect, it } from 'vitest';
import { swedishUtcOffsetMinutes } from '../../src/domain/swedish-time.ts';

describe('Swedish local time', () => {
  it('switches to summer time and back at 01:00 UTC on the last Sundays of March and October', () => {
    expect(swedishUtcOffsetMinutes(new Date('2025-03-30T00:59:59Z'))).toBe(60);
    expect(swedishUtcOffsetMinutes(new Date('2025-03-30T01:00:00Z'))).toBe(120);
    expect(swedishUtcOffsetMinutes(new Date('2025-10-26T00:59:59Z'))).toBe(120);
    expect(swedishUtcOffsetMinutes(new Date('2025-10-26T01:00:00Z'))).toBe(60);
  });
});
