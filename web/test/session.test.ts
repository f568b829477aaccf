import { describe, expect, it } from 'vitest';
import { safeNext } from '../src/lib/session/navigation';

describe('the way back after signing in', () => {
  it('stays inside the app', () => {
    expect(safeNext('/patients/1?x=1')).toBe('/patients/1?x=1');
    for (const bad of [null, '', 'https://evil.example', '//evil.example', '/\\evil', '/login?next=/x'])
      expect(safeNext(bad), String(bad)).toBe('/board');
  });
});
