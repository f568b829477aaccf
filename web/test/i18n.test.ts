import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LANGUAGE,
  LANGUAGES,
  STORAGE_KEY,
  dictionaries,
  isLanguage,
  readStoredLanguage,
  storeLanguage,
  translate,
} from '../src/lib/i18n';
import { ALERT_RULES, GLUCOSE_RANGES, TRIAGE_CATEGORIES } from '../src/lib/domain';
import { TREND_DIRECTIONS } from '../src/lib/trend';

function memoryStorage(initial: Record<string, string> = {}): Pick<Storage, 'getItem' | 'setItem'> {
  const values = new Map(Object.entries(initial));
  return {
    getItem: (key) => values.get(key) ?? null,
    setItem: (key, value) => void values.set(key, value),
  };
}

const throwing: Pick<Storage, 'getItem' | 'setItem'> = {
  getItem: () => {
    throw new Error('SecurityError');
  },
  setItem: () => {
    throw new Error('QuotaExceededError');
  },
};

describe('dictionaries', () => {
  it('Swedish is the default', () => {
    expect(DEFAULT_LANGUAGE).toBe('sv');
  });

  it('every language has every message, none empty, with the same placeholders', () => {
    const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();
    const keys = Object.keys(dictionaries.sv).sort();
    for (const language of LANGUAGES) {
      const dictionary = dictionaries[language];
      expect(Object.keys(dictionary).sort()).toEqual(keys);
      for (const key of keys) {
        const text = dictionary[key as keyof typeof dictionary];
        expect(text.trim(), `${language}:${key}`).not.toBe('');
        expect(placeholders(text), `${language}:${key}`).toEqual(
          placeholders(dictionaries.sv[key as keyof typeof dictionary]),
        );
      }
    }
  });

  it('names every triage category, alert rule, range and trend direction in both languages', () => {
    const keys = [
      ...TRIAGE_CATEGORIES.map((c) => `triage.${c}`),
      ...ALERT_RULES.map((r) => `rule.${r}`),
      ...GLUCOSE_RANGES.map((r) => `range.${r}`),
      ...TREND_DIRECTIONS.map((d) => `trend.${d}`),
    ];
    for (const language of LANGUAGES) for (const key of keys) expect(dictionaries[language]).toHaveProperty([key]);
  });
});

describe('translate', () => {
  it('fills placeholders and leaves unknown ones alone', () => {
    expect(translate('en', 'status.autoRefresh', { seconds: 30 })).toBe(
      'The status refreshes automatically every 30 seconds.',
    );
    expect(translate('sv', 'status.autoRefresh', { seconds: 30 })).toContain('var 30:e sekund');
    expect(translate('en', 'status.autoRefresh')).toContain('{seconds}');
  });
});

describe('stored language', () => {
  it('reads a valid stored choice and falls back to Swedish otherwise', () => {
    expect(readStoredLanguage(memoryStorage({ [STORAGE_KEY]: 'en' }))).toBe('en');
    expect(readStoredLanguage(memoryStorage({ [STORAGE_KEY]: 'de' }))).toBe('sv');
    expect(readStoredLanguage(memoryStorage())).toBe('sv');
    expect(readStoredLanguage(undefined)).toBe('sv');
    expect(readStoredLanguage(throwing)).toBe('sv');
  });

  it('stores a choice and survives storage that refuses', () => {
    const storage = memoryStorage();
    storeLanguage(storage, 'en');
    expect(readStoredLanguage(storage)).toBe('en');
    expect(() => storeLanguage(throwing, 'en')).not.toThrow();
  });

  it('recognises only known languages', () => {
    expect(isLanguage('sv')).toBe(true);
    expect(isLanguage('en')).toBe(true);
    expect(isLanguage('EN')).toBe(false);
    expect(isLanguage(null)).toBe(false);
  });
});
