import { mgdlToMmol } from '../../domain/ranges.ts';
import { LOINC, LOINC_CODES, UCUM } from './codes.ts';
import type { IssueInput } from './outcome.ts';
import { isGlucoboardId } from './search.ts';

/**
 * `$submit-cgm-bundle` (HL7 CGM IG 1.0.0): what a submitted transaction Bundle holds, checked
 * before anything is stored. Following the IG's warning on arbitrary transactions, only POSTs of
 * the IG's resource types are accepted; CGM sensor readings (molar or mass) become readings, each
 * named by its identifier (system and value) for exactly-once; the other resources the IG allows
 * (summary observations, Device, Patient, DiagnosticReport) are acknowledged but not stored:
 * Glucoboard computes its own summaries from the readings.
 */

export interface SubmittedReading {
  /** The entry's index in Bundle.entry. */
  index: number;
  patientId: string;
  identifier: { system: string; value: string };
  measuredAt: string;
  /** mmol/L as sent, or converted from mg/dL; null with a flag for a value out of the sensor's range. */
  mmol: number | null;
  flag: 'LO' | 'HI' | null;
}

export type SubmittedEntry = { kind: 'reading'; reading: SubmittedReading } | { kind: 'not-stored'; index: number };

const ALLOWED_TYPES = new Set(['Observation', 'Device', 'Patient', 'DiagnosticReport']);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

class Refusal extends Error {
  constructor(readonly issue: IssueInput) {
    super(issue.message);
  }
}
const refuse = (expression: string, message: string, code = 'INVALID_BUNDLE', type = 'invalid'): never => {
  throw new Refusal({ type, code, message, expression });
};

function codesOf(resource: Json): Array<{ system?: unknown; code?: unknown }> {
  const code = resource['code'];
  return isObject(code) && Array.isArray(code['coding']) ? (code['coding'] as Json[]) : [];
}

const hasLoinc = (resource: Json, code: string) => codesOf(resource).some((c) => c.system === LOINC && c.code === code);

/** A sensor reading's value in mmol/L, from the IG's molar (mmol/L) or mass (mg/dL) profile. */
function valueOf(
  resource: Json,
  at: string,
  unit: 'mmol/L' | 'mg/dL',
): { mmol: number | null; flag: 'LO' | 'HI' | null } {
  const quantity = resource['valueQuantity'];
  const absent = resource['dataAbsentReason'];
  if (quantity === undefined) {
    if (!isObject(absent))
      refuse(
        `${at}.value`,
        'a sensor reading needs a valueQuantity or a dataAbsentReason (IG invariant cgm-sensor-value-or-dar)',
      );
    const codes = Array.isArray((absent as Json)['coding'])
      ? ((absent as Json)['coding'] as Json[]).map((c) => c['code'])
      : [];
    if (codes.includes('negative-infinity')) return { mmol: null, flag: 'LO' };
    if (codes.includes('positive-infinity')) return { mmol: null, flag: 'HI' };
    return refuse(
      `${at}.dataAbsentReason`,
      'only readings below (negative-infinity) or above (positive-infinity) the sensor range can be stored without a value',
      'NO_VALUE',
    );
  }
  if (!isObject(quantity) || typeof quantity['value'] !== 'number' || !Number.isFinite(quantity['value']))
    return refuse(`${at}.valueQuantity.value`, 'valueQuantity.value must be a number');
  if (quantity['system'] !== UCUM || quantity['code'] !== unit)
    return refuse(
      `${at}.valueQuantity.code`,
      `this reading's code asks for UCUM '${unit}' (system ${UCUM})`,
      'WRONG_UNIT',
    );
  const value = quantity['value'];
  return { mmol: unit === 'mmol/L' ? value : Math.round(mgdlToMmol(value) * 10) / 10, flag: null };
}

function readingOf(resource: Json, index: number, at: string, unit: 'mmol/L' | 'mg/dL'): SubmittedReading {
  const subject = resource['subject'];
  const reference = isObject(subject) ? subject['reference'] : undefined;
  const patientId = typeof reference === 'string' ? reference.replace(/^Patient\//, '') : '';
  if (typeof reference !== 'string' || !reference.startsWith('Patient/') || !isGlucoboardId(patientId))
    refuse(
      `${at}.subject`,
      "subject must reference the patient as Glucoboard knows it: 'Patient/<id>'",
      'UNKNOWN_PATIENT',
    );
  const identifiers = Array.isArray(resource['identifier']) ? (resource['identifier'] as unknown[]) : [];
  const identifier = identifiers.find(
    (i): i is { system: string; value: string } =>
      isObject(i) &&
      typeof i['system'] === 'string' &&
      i['system'] !== '' &&
      typeof i['value'] === 'string' &&
      i['value'] !== '',
  );
  if (!identifier)
    refuse(
      `${at}.identifier`,
      'each reading needs an identifier with system and value: it is what makes a resubmission a duplicate',
      'IDENTIFIER_REQUIRED',
    );
  const effective = resource['effectiveDateTime'];
  if (typeof effective !== 'string' || !/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(effective))
    refuse(
      `${at}.effectiveDateTime`,
      'effectiveDateTime must be a dateTime with a time and a time zone',
      'INVALID_TIME',
    );
  if (resource['status'] !== 'final' && resource['status'] !== 'amended' && resource['status'] !== 'corrected')
    refuse(`${at}.status`, 'only final (or amended, corrected) readings are stored: status must say so', 'NOT_FINAL');
  return {
    index,
    patientId,
    identifier: { system: identifier!.system, value: identifier!.value },
    measuredAt: effective as string,
    ...valueOf(resource, at, unit),
  };
}

/** The identifier an entry's conditional create names (`identifier=system|value`), if any. */
function checkIfNoneExist(request: Json, at: string): string | undefined {
  const condition = request['ifNoneExist'];
  if (condition === undefined) return undefined;
  if (typeof condition !== 'string' || !/^identifier=[^|&]+\|[^&]+$/.test(condition))
    refuse(
      `${at}.request.ifNoneExist`,
      "conditional create is supported on the identifier only: 'identifier=<system>|<value>'",
      'UNSUPPORTED_CONDITION',
      'not-supported',
    );
  return decodeURIComponent((condition as string).slice('identifier='.length));
}

/** Reads a submitted Bundle, or refuses it with the precise issue of its first bad entry. */
export function parseSubmission(
  body: unknown,
): { ok: true; entries: SubmittedEntry[] } | { ok: false; issue: IssueInput } {
  try {
    if (!isObject(body) || body['resourceType'] !== 'Bundle')
      refuse('Bundle', 'the body must be a FHIR Bundle (resourceType Bundle)', 'NOT_A_BUNDLE');
    const bundle = body as Json;
    if (bundle['type'] !== 'transaction')
      refuse('Bundle.type', "the Bundle's type must be 'transaction'", 'NOT_A_TRANSACTION');
    const entries = bundle['entry'];
    if (!Array.isArray(entries) || entries.length === 0)
      refuse('Bundle.entry', 'the Bundle has no entries', 'EMPTY_BUNDLE');
    const parsed = (entries as unknown[]).map((entry, index): SubmittedEntry => {
      const at = `Bundle.entry[${index}]`;
      if (!isObject(entry) || !isObject(entry['resource']))
        return refuse(`${at}.resource`, 'every entry needs a resource');
      const request = entry['request'];
      if (!isObject(request) || request['method'] !== 'POST')
        return refuse(
          `${at}.request.method`,
          'only POST (create) entries are accepted',
          'METHOD_NOT_ALLOWED',
          'not-supported',
        );
      const resource = entry['resource'] as Json;
      const type = resource['resourceType'];
      if (typeof type !== 'string' || !ALLOWED_TYPES.has(type))
        return refuse(
          `${at}.resource`,
          `resource type '${String(type)}' is not one of the CGM IG's (Observation, Device, Patient, DiagnosticReport)`,
          'RESOURCE_TYPE_NOT_ALLOWED',
          'not-supported',
        );
      if (request['url'] !== type) return refuse(`${at}.request.url`, `request.url must be '${type}'`);
      const condition = checkIfNoneExist(request, at);
      if (type !== 'Observation') return { kind: 'not-stored', index };
      const unit = hasLoinc(resource, LOINC_CODES.cgmMolar)
        ? 'mmol/L'
        : hasLoinc(resource, LOINC_CODES.cgmMass)
          ? 'mg/dL'
          : undefined;
      if (!unit) return { kind: 'not-stored', index };
      const reading = readingOf(resource, index, `${at}.resource`, unit);
      if (condition !== undefined && condition !== `${reading.identifier.system}|${reading.identifier.value}`)
        refuse(
          `${at}.request.ifNoneExist`,
          "ifNoneExist must name the reading's own identifier",
          'UNSUPPORTED_CONDITION',
          'not-supported',
        );
      return { kind: 'reading', reading };
    });
    return { ok: true, entries: parsed };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, issue: err.issue };
    throw err;
  }
}
