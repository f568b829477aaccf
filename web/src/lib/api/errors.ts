/**
 * Every refusal the app can get, told in the user's language: the server's messages are English
 * for developers and logs, so the app shows each error by its code, never by its message. Times in
 * an answer (who took an alert, when) are shown in the user's locale and time zone.
 */
import { ApiError } from './http';
import { formatWhen } from '../i18n/format';
import { LOCALES, translate, type Language, type MessageKey } from '../i18n/translate';

/** The codes of the People API's errors (server/src, core/src/wire), and NETWORK for no answer. */
export const ERROR_CODES = [
  'ACCOUNT_BEYOND_TEAMS',
  'ACCOUNT_DISABLED',
  'ALREADY_ACKNOWLEDGED',
  'ALREADY_RESOLVED',
  'BAD_REQUEST',
  'BATCH_TOO_LARGE',
  'BEFORE_ASSIGNMENT',
  'CSRF',
  'DEVICE_AUTH',
  'DEVICE_EXISTS',
  'DEVICE_NOT_REVOKED',
  'DEVICE_RETIRED',
  'DEVICE_REVOKED',
  'EMAIL_TAKEN',
  'FORBIDDEN',
  'FUTURE_TIMESTAMP',
  'IDEMPOTENCY_KEY_REUSED',
  'IDENTITY_TAKEN',
  'INTERNAL',
  'METER_NOT_BGM',
  'METER_PAIRED_ELSEWHERE',
  'METER_RETIRED',
  'METER_REVOKED',
  'METER_UNPAIRED',
  'INVALID_CREDENTIALS',
  'INVALID_JSON',
  'INVALID_PAYLOAD',
  'INVALID_READING',
  'LOCAL_LOGIN_DISABLED',
  'NETWORK',
  'NOT_FOUND',
  'OIDC_FAILED',
  'OIDC_UNAVAILABLE',
  'OIDC_UNKNOWN_ACCOUNT',
  'OUT_OF_RANGE',
  'OVERLOADED',
  'PAYLOAD_TOO_LARGE',
  'PERIOD_REVERSED',
  'PERIOD_TOO_LONG',
  'RATE_LIMITED',
  'SAME_PATIENT',
  'SEQ_CONFLICT',
  'TEAM_EXISTS',
  'TOO_OLD',
  'UNAUTHENTICATED',
  'UNAVAILABLE',
  'UNSUPPORTED_MEDIA_TYPE',
  'VALIDATION_FAILED',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const isErrorCode = (code: string): code is ErrorCode => (ERROR_CODES as readonly string[]).includes(code);

/** Who took an alert and when, as a 409 on acknowledge or resolve carries it. */
export interface TakenBy {
  name: string | null;
  at: string | null;
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** The colleague and time of an ALREADY_ACKNOWLEDGED or ALREADY_RESOLVED answer; null for others. */
export function takenBy(err: unknown): TakenBy | null {
  if (!(err instanceof ApiError)) return null;
  const [by, at] =
    err.code === 'ALREADY_ACKNOWLEDGED'
      ? ['acknowledgedBy', 'acknowledgedAt']
      : err.code === 'ALREADY_RESOLVED'
        ? ['resolvedBy', 'resolvedAt']
        : [null, null];
  if (!by || !at) return null;
  const name = record(err.details[by])?.name;
  const when = err.details[at];
  return { name: typeof name === 'string' ? name : null, at: typeof when === 'string' ? when : null };
}

/** "Kvitterat av Sara Lind kl. 09:30": an alert a colleague took, in the user's locale. */
export function takenText(
  state: 'acknowledged' | 'resolved',
  taken: TakenBy,
  language: Language,
  nowMs = Date.now(),
): string {
  const time = taken.at ? formatWhen(taken.at, nowMs, LOCALES[language]) : '';
  // A resolved alert without a person was resolved by the readings themselves.
  if (state === 'resolved' && taken.name === null) return translate(language, 'alert.resolvedByReadings', { time });
  const name = taken.name ?? translate(language, 'error.someone');
  return translate(language, state === 'acknowledged' ? 'ack.takenBy' : 'ack.resolvedBy', { name, time });
}

/** What to tell the user about a failed request, in her language. */
export function errorMessage(err: unknown, language: Language): string {
  if (!(err instanceof ApiError)) return translate(language, 'error.code.unexpected');
  const taken = takenBy(err);
  if (taken) return takenText(err.code === 'ALREADY_ACKNOWLEDGED' ? 'acknowledged' : 'resolved', taken, language);
  if (isErrorCode(err.code)) {
    const key = `error.code.${err.code}` satisfies MessageKey;
    return translate(language, key);
  }
  return translate(language, 'error.code.http', { status: err.status });
}
