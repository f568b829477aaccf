import { describe, expect, it } from 'vitest';
import { DEFAULT_LANGUAGE, LANGUAGES, dictionaries, isLanguage, translate } from '../src/lib/i18n/translate';
import { ALERT_RULES, GLUCOSE_RANGES, TRIAGE_CATEGORIES } from '@glucoboard/core/domain';
import { TREND_DIRECTIONS } from '../src/lib/glucose/trend';

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

describe('languages', () => {
  it('recognises only known languages', () => {
    expect(isLanguage('sv')).toBe(true);
    expect(isLanguage('en')).toBe(true);
    expect(isLanguage('EN')).toBe(false);
    expect(isLanguage(null)).toBe(false);
  });
});
