/**
 * What the app remembers in the browser (never patient data): the language, the glucose unit,
 * whether new critical alerts sound, and the team last looked at. Reading falls back to the
 * default when nothing valid is stored or storage is unavailable (private browsing, a full quota).
 */
import { DEFAULT_LANGUAGE, isLanguage, type Language } from '../i18n/translate';
import { isUnit, type GlucoseUnit } from '../glucose/units';

export const PREFERENCE_KEYS = {
  language: 'glucoboard.language',
  unit: 'glucoboard.unit',
  sound: 'glucoboard.sound',
  team: 'glucoboard.team',
} as const;

type Reader = Pick<Storage, 'getItem'> | undefined;
type Writer = Pick<Storage, 'setItem' | 'removeItem'> | undefined;

/** localStorage when the browser lets us use it. */
export function browserStorage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

function read(storage: Reader, key: string): string | null {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

export function write(storage: Writer, key: string, value: string | null): void {
  try {
    if (value === null) storage?.removeItem(key);
    else storage?.setItem(key, value);
  } catch {
    // The choice lasts for this visit only.
  }
}

export function readLanguage(storage: Reader): Language {
  const stored = read(storage, PREFERENCE_KEYS.language);
  return isLanguage(stored) ? stored : DEFAULT_LANGUAGE;
}

export function readUnit(storage: Reader): GlucoseUnit {
  const stored = read(storage, PREFERENCE_KEYS.unit);
  return isUnit(stored) ? stored : 'mmol';
}

/** Sound is off unless the user turned it on (a browser may only play it after a click anyway). */
export function readSound(storage: Reader): boolean {
  return read(storage, PREFERENCE_KEYS.sound) === 'on';
}

export function readTeam(storage: Reader): string | null {
  return read(storage, PREFERENCE_KEYS.team);
}

/** The remembered team if the user still has it, else the first; null without teams. */
export function pickTeam<T extends { id: string }>(teams: readonly T[], remembered: string | null): T | null {
  return teams.find((t) => t.id === remembered) ?? teams[0] ?? null;
}
