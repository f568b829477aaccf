import { describe, expect, it } from 'vitest';
import { connectionState, OFFLINE_AFTER_MS } from '../src/lib/live/connection';

describe('connection state', () => {
  const facts = { connected: false, everConnected: true, online: true, downSince: 0, now: 1000 };
  it('is live, reconnecting for a while, then offline; offline at once without a network', () => {
    expect(connectionState({ ...facts, connected: true })).toBe('connected');
    expect(connectionState({ ...facts, everConnected: false })).toBe('connecting');
    expect(connectionState(facts)).toBe('reconnecting');
    expect(connectionState({ ...facts, now: OFFLINE_AFTER_MS })).toBe('offline');
    expect(connectionState({ ...facts, online: false })).toBe('offline');
  });
});
