/**
 * A deliberately tiny translation layer: one flat dictionary per language, `{name}` placeholders,
 * and the type system making sure every language has every message. Swedish is the default; the
 * reactive, persisted choice lives in `i18n.svelte.ts`.
 */

export const LANGUAGES = ['sv', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'sv';
export const STORAGE_KEY = 'glucoboard.language';

/** Each language's own name for itself, shown in the language switch. */
export const LANGUAGE_NAMES: Record<Language, string> = { sv: 'Svenska', en: 'English' };

/** BCP 47 locale used for dates and numbers. */
export const LOCALES: Record<Language, string> = { sv: 'sv-SE', en: 'en-GB' };

const sv = {
  'app.name': 'Glucoboard',
  'app.tagline': 'Glukosövervakning i realtid för diabetesteam',
  'app.skipToContent': 'Hoppa till innehållet',
  'language.label': 'Språk',

  'about.heading': 'Om Glucoboard',
  'about.body':
    'Glucoboard tar emot blodsockervärden (mmol/L) från patienters mätare och sensorer, larmar vårdteamet när värden hamnar utanför målområdet och låter teamet kvittera vad som gjorts.',
  'about.comingHeading': 'Det här kommer härnäst',
  'about.coming':
    'Den här versionen innehåller bara grunden. Inloggning och den levande patienttavlan kommer i nästa versioner. Här visas inga patientuppgifter.',

  'status.heading': 'Systemstatus',
  'status.checking': 'Kontrollerar systemet …',
  'status.ready': 'Systemet är i drift',
  'status.readyDetail': 'Servern, databasen och kön svarar.',
  'status.unready': 'Systemet är delvis ur drift',
  'status.unreadyDetail': 'Servern svarar, men minst en tjänst den behöver är inte nåbar.',
  'status.down': 'Servern svarar inte',
  'status.downDetail': 'Det gick inte att nå servern. Kontrollera nätverket eller kontakta den som driftar systemet.',
  'status.server': 'Server',
  'status.database': 'Databas',
  'status.redis': 'Kö (Redis)',
  'status.checkOk': 'Svarar',
  'status.checkFailed': 'Svarar inte',
  'status.checkUnknown': 'Okänt',
  'status.lastChecked': 'Senast kontrollerad',
  'status.notYetChecked': 'Inte kontrollerad än',
  'status.refresh': 'Kontrollera igen',
  'status.refreshing': 'Kontrollerar …',
  'status.autoRefresh': 'Statusen uppdateras automatiskt var {seconds}:e sekund.',

  'error.notFound': 'Sidan finns inte',
  'error.notFoundDetail': 'Adressen leder inte till någon sida i Glucoboard.',
  'error.generic': 'Något gick fel',
  'error.genericDetail': 'Sidan kunde inte visas. Försök igen om en stund.',
  'error.backHome': 'Till startsidan',

  'footer.text': 'Glucoboard är öppen källkod (Apache-2.0).',
} as const;

export type MessageKey = keyof typeof sv;
export type Dictionary = Record<MessageKey, string>;

const en: Dictionary = {
  'app.name': 'Glucoboard',
  'app.tagline': 'Live glucose monitoring for diabetes care teams',
  'app.skipToContent': 'Skip to content',
  'language.label': 'Language',

  'about.heading': 'About Glucoboard',
  'about.body':
    "Glucoboard receives blood glucose values (mmol/L) from patients' meters and sensors, alerts the care team when values leave the target range and lets the team record what was done.",
  'about.comingHeading': 'Coming next',
  'about.coming':
    'This release contains only the foundation. Sign-in and the live patient board arrive with the next releases. No patient data is shown here.',

  'status.heading': 'System status',
  'status.checking': 'Checking the system …',
  'status.ready': 'The system is operational',
  'status.readyDetail': 'The server, the database and the queue are responding.',
  'status.unready': 'The system is partly unavailable',
  'status.unreadyDetail': 'The server responds, but at least one service it depends on cannot be reached.',
  'status.down': 'The server is not responding',
  'status.downDetail': 'The server could not be reached. Check the network or contact whoever operates the system.',
  'status.server': 'Server',
  'status.database': 'Database',
  'status.redis': 'Queue (Redis)',
  'status.checkOk': 'Responding',
  'status.checkFailed': 'Not responding',
  'status.checkUnknown': 'Unknown',
  'status.lastChecked': 'Last checked',
  'status.notYetChecked': 'Not checked yet',
  'status.refresh': 'Check again',
  'status.refreshing': 'Checking …',
  'status.autoRefresh': 'The status refreshes automatically every {seconds} seconds.',

  'error.notFound': 'Page not found',
  'error.notFoundDetail': 'This address does not lead to any page in Glucoboard.',
  'error.generic': 'Something went wrong',
  'error.genericDetail': 'The page could not be shown. Please try again in a moment.',
  'error.backHome': 'Back to the start page',

  'footer.text': 'Glucoboard is open source (Apache-2.0).',
};

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

/** The stored choice, or the default when nothing (valid) is stored or storage is unavailable. */
export function readStoredLanguage(storage: Pick<Storage, 'getItem'> | undefined): Language {
  try {
    const stored = storage?.getItem(STORAGE_KEY);
    return isLanguage(stored) ? stored : DEFAULT_LANGUAGE;
  } catch {
    return DEFAULT_LANGUAGE;
  }
}

export function storeLanguage(storage: Pick<Storage, 'setItem'> | undefined, language: Language): void {
  try {
    storage?.setItem(STORAGE_KEY, language);
  } catch {
    // Private browsing or a full quota: the choice simply lasts for this visit.
  }
}
