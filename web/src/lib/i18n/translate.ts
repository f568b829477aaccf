/**
 * A deliberately tiny translation layer: one flat dictionary per language (`sv.ts`, `en.ts`),
 * `{name}` placeholders, and the type system making sure every language has every message.
 * Swedish is the default; the reactive choice lives in `language.svelte.ts`, remembered in the
 * browser by `preferences/storage.ts`.
 */
import { en } from './en';
import { sv, type Dictionary, type MessageKey } from './sv';

export type { Dictionary, MessageKey };

export const LANGUAGES = ['sv', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'sv';

/** Each language's own name for itself, shown in the language switch. */
export const LANGUAGE_NAMES: Record<Language, string> = { sv: 'Svenska', en: 'English' };

/** BCP 47 locale used for dates and numbers. */
export const LOCALES: Record<Language, string> = { sv: 'sv-SE', en: 'en-GB' };

export const dictionaries: Record<Language, Dictionary> = { sv, en };

export type MessageParams = Record<string, string | number>;

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** The message for `key` in `language`, with `{name}` placeholders filled from `params`. */
export function translate(language: Language, key: MessageKey, params?: MessageParams): string {
  const template = dictionaries[language][key] ?? dictionaries[DEFAULT_LANGUAGE][key] ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (match, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : match,
  );
}
