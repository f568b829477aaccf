import { describe, expect, it } from 'vitest';
import {
  pickTeam,
  PREFERENCE_KEYS,
  readLanguage,
  readSound,
  readTeam,
  readUnit,
  write,
} from '../src/lib/preferences/storage';

/** A Storage that keeps its values in memory. */
function memory(initial: Record<string, string> = {}) {
  const values = new Map(Object.entries(initial));
  return {
    getItem: (k: string) => values.get(k) ?? null,
    setItem: (k: string, v: string) => void values.set(k, v),
    removeItem: (k: string) => void values.delete(k),
  };
}

/** A Storage the browser refuses (private browsing, a full quota). */
const throwing: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> = {
  getItem: () => {
    throw new Error('SecurityError');
  },
  setItem: () => {
    throw new Error('QuotaExceededError');
  },
  removeItem: () => {
    throw new Error('SecurityError');
  },
};

describe('remembered choices', () => {
  it('fall back to mmol/L, sound off and the first team', () => {
    expect(readUnit(memory())).toBe('mmol');
    expect(readUnit(memory({ [PREFERENCE_KEYS.unit]: 'mgdl' }))).toBe('mgdl');
    expect(readUnit(memory({ [PREFERENCE_KEYS.unit]: 'bananas' }))).toBe('mmol');
    expect(readSound(memory())).toBe(false);
    const storage = memory();
    write(storage, PREFERENCE_KEYS.sound, 'on');
    expect(readSound(storage)).toBe(true);
    write(storage, PREFERENCE_KEYS.team, 'b');
    expect(readTeam(storage)).toBe('b');
    const teams = [{ id: 'a' }, { id: 'b' }];
    expect(pickTeam(teams, 'b')).toEqual({ id: 'b' });
    expect(pickTeam(teams, 'gone')).toEqual({ id: 'a' });
    expect(pickTeam([], 'a')).toBeNull();
  });
});

describe('stored language', () => {
  it('reads a valid stored choice and falls back to Swedish otherwise', () => {
    expect(readLanguage(memory({ [PREFERENCE_KEYS.language]: 'en' }))).toBe('en');
    expect(readLanguage(memory({ [PREFERENCE_KEYS.language]: 'de' }))).toBe('sv');
    expect(readLanguage(memory())).toBe('sv');
    expect(readLanguage(undefined)).toBe('sv');
    expect(readLanguage(throwing)).toBe('sv');
  });

  it('stores a choice and survives storage that refuses', () => {
    const storage = memory();
    write(storage, PREFERENCE_KEYS.language, 'en');
    expect(readLanguage(storage)).toBe('en');
    expect(() => write(throwing, PREFERENCE_KEYS.language, 'en')).not.toThrow();
  });
});
