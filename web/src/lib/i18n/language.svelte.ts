import { errorMessage } from '../api/errors';
import { browserStorage, PREFERENCE_KEYS, readLanguage, write } from '../preferences/storage';
import { LOCALES, translate, type Language, type MessageKey, type MessageParams } from './translate';

/** The current language as Svelte 5 state; components re-render when it changes. */
class I18n {
  language = $state<Language>(readLanguage(browserStorage()));

  /** BCP 47 locale for `Intl` formatting in the current language. */
  readonly locale = $derived(LOCALES[this.language]);

  /** Translate `key` in the current language (reactive when read in a template or effect). */
  t = (key: MessageKey, params?: MessageParams): string => translate(this.language, key, params);

  /** A failed request told by its code in the current language (never the server's English). */
  error = (err: unknown): string => errorMessage(err, this.language);

  setLanguage(language: Language): void {
    this.language = language;
    write(browserStorage(), PREFERENCE_KEYS.language, language);
  }
}

export const i18n = new I18n();
