import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { READING_REJECTION_CODES } from '@glucoboard/core/wire';
import { ApiError, errorOf } from '../src/lib/api/http';
import { ERROR_CODES, errorMessage, takenBy } from '../src/lib/api/errors';
import { formatTime } from '../src/lib/i18n/format';
import { dictionaries, LANGUAGES, translate } from '../src/lib/i18n/translate';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/**
 * Every error code the People API can answer with, read from the server's own source and the wire
 * contracts: errors made with a status and a code (`new ApiError(409, 'EMAIL_TAKEN', …)`) and error
 * bodies and rejections written as `code: 'CODE'`.
 */
function serverCodes(): Set<string> {
  const codes = new Set<string>(READING_REJECTION_CODES);
  // FHIR and Nightscout answer outside clients in their own error shapes (OperationOutcome, Nightscout's
  // bodies); the web app never reads those codes.
  const outside = /[/\\](fhir|nightscout)([/\\.]|$)/;
  const files = [...sources(path.join(ROOT, 'server/src')), ...sources(path.join(ROOT, 'core/src/wire'))];
  for (const file of files.filter((f) => !outside.test(path.relative(ROOT, f)))) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/new \w+\(\s*\d{3},\s*'([A-Z][A-Z0-9_]+)'/g)) codes.add(m[1]!);
    for (const m of text.matchAll(/\bcode: '([A-Z][A-Z0-9_]+)'/g)) codes.add(m[1]!);
  }
  return codes;
}

describe('errors told by their code in the user language (issue 11, item 5)', () => {
  it('has a message in every language for every code the server sends', () => {
    const codes = serverCodes();
    // The scan finds what it must (a broken pattern would find nothing and pass).
    for (const known of ['ALREADY_ACKNOWLEDGED', 'VALIDATION_FAILED', 'OUT_OF_RANGE', 'RATE_LIMITED', 'OIDC_FAILED'])
      expect(codes).toContain(known);
    const missing = [...codes].filter((code) => !(ERROR_CODES as readonly string[]).includes(code));
    expect(missing, 'codes the server sends that the web app cannot tell').toEqual([]);
    for (const language of LANGUAGES) {
      for (const code of ERROR_CODES) {
        const text = (dictionaries[language] as Record<string, string>)[`error.code.${code}`];
        expect(text, `${language}: ${code}`).toBeTruthy();
      }
    }
    // Swedish and English differ (no English left in the Swedish dictionary by copying).
    for (const code of ERROR_CODES)
      expect(translate('sv', `error.code.${code}`)).not.toBe(translate('en', `error.code.${code}`));
  });

  it("shows the code's message, never the server's English", () => {
    const err = errorOf(400, { error: { code: 'OUT_OF_RANGE', message: 'mmol must be between 0.6 and 33.3' } });
    expect(errorMessage(err, 'sv')).toBe(translate('sv', 'error.code.OUT_OF_RANGE'));
    expect(errorMessage(err, 'en')).toBe(translate('en', 'error.code.OUT_OF_RANGE'));
    expect(errorMessage(errorOf(502, 'Bad Gateway'), 'sv')).toBe(translate('sv', 'error.code.http', { status: 502 }));
    expect(errorMessage(new TypeError('x is undefined'), 'sv')).toBe(translate('sv', 'error.code.unexpected'));
    expect(errorMessage(new ApiError(0, 'NETWORK', 'Failed to fetch'), 'en')).toBe(
      translate('en', 'error.code.NETWORK'),
    );
  });

  it('tells who took an alert and when from the 409 fields, in the local time of the user', () => {
    const at = new Date(Date.now() - 60_000).toISOString();
    const err = errorOf(409, {
      error: {
        code: 'ALREADY_ACKNOWLEDGED',
        message: `already acknowledged by Sara Lind at ${at}`,
        acknowledgedBy: { id: '4b1c6a8e-1f7e-4c55-9a3a-6a3c2f1d0b9e', name: 'Sara Lind' },
        acknowledgedAt: at,
      },
    });
    expect(takenBy(err)).toEqual({ name: 'Sara Lind', at });
    const sv = errorMessage(err, 'sv');
    expect(sv).toBe(translate('sv', 'ack.takenBy', { name: 'Sara Lind', time: formatTime(at, 'sv-SE') }));
    expect(sv).not.toContain(at.slice(0, 10));
    expect(errorMessage(err, 'en')).toBe(
      translate('en', 'ack.takenBy', { name: 'Sara Lind', time: formatTime(at, 'en-GB') }),
    );
    const resolved = errorOf(409, {
      error: { code: 'ALREADY_RESOLVED', message: 'x', resolvedBy: null, resolvedAt: at },
    });
    expect(errorMessage(resolved, 'sv')).toBe(
      translate('sv', 'alert.resolvedByReadings', { time: formatTime(at, 'sv-SE') }),
    );
  });
});
