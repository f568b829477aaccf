import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as wire from '../../src/wire/index.ts';
import {
  accessGrantBody,
  acknowledgeBody,
  alertsQuery,
  auditQuery,
  externalIdentityBody,
  manualReadingBody,
  loginBody,
  newDeviceBody,
  newMembershipBody,
  newPatientBody,
  newTeamBody,
  newUserBody,
  parseWith,
  patientUpdateBody,
  readingsRangeQuery,
  readingsRangeQueryAt,
  snoozeBody,
  resolveBody,
  teamThresholdsBody,
  teamUpdateBody,
  thresholdsBody,
  validationError,
} from '../../src/wire/people.ts';
import { newFollowerBody } from '../../src/wire/nightscout-followers.ts';
import { agpQuery, summaryQuery } from '../../src/wire/summary.ts';
import { teamReportQuery } from '../../src/wire/team-report.ts';
import { readingsQuery, readingsQueryAt } from '../../src/wire/readings-export.ts';
import {
  accessLogQuery,
  auditReviewBody,
  auditReviewQuery,
  auditReviewQueryAt,
  auditSearchQuery,
} from '../../src/wire/audit-review.ts';
import { meterPairBody, meterQuery, meterReadingsBody } from '../../src/wire/meter.ts';
import {
  deviceReplacementsQuery,
  deviceReplacementsQueryAt,
  lendDeviceBody,
  replaceDeviceBody,
} from '../../src/wire/meter-loans.ts';
import { REPLACEMENT_REASONS } from '../../src/domain/meter-loans.ts';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const NOW = new Date('2025-06-15T10:00:00Z');
const SOME_ID = '0b6f3b9e-7a0c-4d2e-9f51-3c8e2a1d4b60';

// --- Arbitraries of valid values ----------------------------------------------------------------

const padded = <T extends string>(arb: fc.Arbitrary<T>) =>
  fc.tuple(fc.constantFrom('', ' ', '  '), arb, fc.constantFrom('', ' ', '\t')).map(([a, s, b]) => `${a}${s}${b}`);

const displayName = fc.oneof(
  fc.constantFrom('Astrid Lindqvist', 'Diabetesmottagningen Skövde', 'Hemsjukvården Väst', 'Åsa Öberg'),
  fc.string({ minLength: 1, maxLength: 120 }).filter((s) => s.trim().length > 0),
);

const emailAddress = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9]{1,12}(\.[a-z0-9]{1,12})?$/),
    fc.stringMatching(/^[a-z0-9]{1,12}\.(se|nu|com)$/),
    fc.boolean(),
  )
  .map(([local, domain, upper]) => (upper ? `${local}@${domain}`.toUpperCase() : `${local}@${domain}`));

const password = fc.string({ minLength: 12, maxLength: 256 });
const uuid = fc.uuid();
const tenths = (min: number, max: number) => fc.integer({ min: min * 10, max: max * 10 }).map((n) => n / 10);
const mmol = tenths(1, 30);
const noDataMinutes = fc.integer({ min: 5, max: 43_200 });
const note = fc.string({ maxLength: 2000 });
const labelText = fc.stringMatching(/^[a-zåäö0-9-][a-zåäö0-9 -]{0,38}[a-zåäö0-9-]$|^[a-zåäö0-9]$/);
const labels = fc.uniqueArray(labelText, { maxLength: 20 });

/** Skatteverket's test number and a few more valid ones (one a samordningsnummer), in several writings. */
const identityNumber = fc.constantFrom(
  '19121212-1212',
  '191212121212',
  '121212+1212',
  '20080808-0006',
  '19121272-1219',
  '800101-1231',
);

/** Four thresholds that rise, each given, null or left out. */
const risingThresholds = (nullable: boolean) =>
  fc.uniqueArray(fc.integer({ min: 10, max: 300 }), { minLength: 4, maxLength: 4 }).chain((values) => {
    const [urgentLow, low, high, urgentHigh] = values.sort((a, b) => a - b).map((n) => n / 10);
    const slot = (v: number | undefined) => (nullable ? fc.constantFrom(v, null) : fc.constant(v));
    return fc.record(
      { urgentLow: slot(urgentLow), low: slot(low), high: slot(high), urgentHigh: slot(urgentHigh) },
      { requiredKeys: [] },
    );
  });

/** An ISO-8601 date-time of an instant, in UTC or with a Swedish offset. */
const written = (at: Date, offsetMinutes: number) => {
  if (offsetMinutes === 0) return at.toISOString();
  const local = new Date(at.getTime() + offsetMinutes * 60_000).toISOString().slice(0, -1);
  return `${local}+${String(offsetMinutes / 60).padStart(2, '0')}:00`;
};
const offset = fc.constantFrom(0, 60, 120);

// --- Every schema: fields, types and valid inputs -----------------------------------------------

/** The JSON type a field takes; `coerced` is a number that may come as text in a query string. */
type FieldType = 'string' | 'number' | 'boolean' | 'array' | 'coerced';

interface Case {
  schema: z.ZodType;
  /** Schema to parse generated valid inputs with (a fixed clock for ranges), if not `schema`. */
  validSchema?: z.ZodType;
  fields: Record<string, { type: FieldType; nullable?: boolean }>;
  valid: fc.Arbitrary<Record<string, unknown>>;
}

const string = { type: 'string' } as const;
const nullableString = { type: 'string', nullable: true } as const;
const number = { type: 'number' } as const;
const nullableNumber = { type: 'number', nullable: true } as const;

const patientOptional = {
  identityNumber: fc.option(identityNumber),
  labels,
  responsiblePhysicianId: fc.option(uuid),
  targetProfile: fc.constantFrom('standard', 'older_high_risk'),
};

const CASES: Record<string, Case> = {
  loginBody: {
    schema: loginBody,
    fields: { email: string, password: string },
    valid: fc.record({ email: padded(emailAddress), password: fc.string({ minLength: 1, maxLength: 256 }) }),
  },
  newTeamBody: {
    schema: newTeamBody,
    fields: { name: string, escalationTeamId: nullableString, escalateAfterMinutes: number },
    valid: fc.record(
      {
        name: displayName,
        escalationTeamId: fc.option(uuid),
        escalateAfterMinutes: fc.integer({ min: 1, max: 1440 }),
      },
      { requiredKeys: ['name'] },
    ),
  },
  teamUpdateBody: {
    schema: teamUpdateBody,
    fields: { name: string, escalationTeamId: nullableString, escalateAfterMinutes: number },
    valid: fc.record(
      { name: displayName, escalationTeamId: fc.option(uuid), escalateAfterMinutes: fc.integer({ min: 1, max: 1440 }) },
      { requiredKeys: [] },
    ),
  },
  newUserBody: {
    schema: newUserBody,
    fields: { email: string, name: string, password: string, sysadmin: { type: 'boolean' } },
    valid: fc.record(
      { email: padded(emailAddress), name: displayName, password, sysadmin: fc.boolean() },
      { requiredKeys: ['email', 'name', 'password'] },
    ),
  },
  newFollowerBody: {
    schema: newFollowerBody,
    fields: { name: string },
    valid: fc.record({ name: fc.string({ minLength: 1, maxLength: 100 }).filter((n) => n.trim().length > 0) }),
  },
  newMembershipBody: {
    schema: newMembershipBody,
    fields: { userId: string, role: string },
    valid: fc.record({ userId: uuid, role: fc.constantFrom('nurse', 'physician', 'admin') }),
  },
  newPatientBody: {
    schema: newPatientBody,
    fields: {
      name: string,
      teamId: string,
      identityNumber: nullableString,
      labels: { type: 'array' },
      responsiblePhysicianId: nullableString,
      targetProfile: string,
    },
    valid: fc.record({ name: displayName, teamId: uuid, ...patientOptional }, { requiredKeys: ['name', 'teamId'] }),
  },
  patientUpdateBody: {
    schema: patientUpdateBody,
    fields: {
      name: string,
      identityNumber: nullableString,
      labels: { type: 'array' },
      responsiblePhysicianId: nullableString,
      targetProfile: string,
    },
    valid: fc.record({ name: displayName, ...patientOptional }, { requiredKeys: [] }),
  },
  thresholdsBody: {
    schema: thresholdsBody,
    fields: {
      urgentLow: nullableNumber,
      low: nullableNumber,
      high: nullableNumber,
      urgentHigh: nullableNumber,
      noDataMinutes: nullableNumber,
    },
    valid: fc
      .tuple(risingThresholds(true), fc.record({ noDataMinutes: fc.option(noDataMinutes) }, { requiredKeys: [] }))
      .map(([t, rest]) => ({ ...t, ...rest })),
  },
  teamThresholdsBody: {
    schema: teamThresholdsBody,
    fields: {
      urgentLow: number,
      low: number,
      high: number,
      urgentHigh: number,
      noDataMinutesBgm: number,
      noDataMinutesCgm: number,
      rapidChangeMmolPerMin: number,
    },
    valid: fc
      .tuple(
        risingThresholds(false),
        fc.record(
          {
            noDataMinutesBgm: noDataMinutes,
            noDataMinutesCgm: noDataMinutes,
            rapidChangeMmolPerMin: fc.double({ min: 0.05, max: 1, noNaN: true }),
          },
          { requiredKeys: [] },
        ),
      )
      .map(([t, rest]) => ({ ...t, ...rest })),
  },
  newDeviceBody: {
    schema: newDeviceBody,
    fields: { serial: string, kind: string, patientId: string },
    valid: fc.record({
      serial: fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
      kind: fc.constantFrom('bgm', 'cgm'),
      patientId: uuid,
    }),
  },
  acknowledgeBody: {
    schema: acknowledgeBody,
    fields: { note: nullableString, action: string },
    valid: fc.record(
      { note: fc.option(note), action: fc.constantFrom('phone', 'video', 'visit', 'none') },
      { requiredKeys: ['action'] },
    ),
  },
  resolveBody: {
    schema: resolveBody,
    fields: { note: nullableString },
    valid: fc.record({ note: fc.option(note) }, { requiredKeys: [] }),
  },
  accessGrantBody: {
    schema: accessGrantBody,
    fields: { teamId: string },
    valid: fc.record({ teamId: uuid }),
  },
  manualReadingBody: {
    schema: manualReadingBody,
    fields: {
      measuredAt: string,
      mmol: nullableNumber,
      flag: nullableString,
      meal: nullableString,
      note: nullableString,
    },
    valid: fc.record(
      {
        measuredAt: fc.integer({ min: 0, max: 4_000_000_000_000 }).map((ms) => new Date(ms).toISOString()),
        mmol: fc.option(fc.double({ min: 0.6, max: 33.3, noNaN: true })),
        flag: fc.option(fc.constantFrom('LO', 'HI')),
        meal: fc.option(fc.constantFrom('before', 'after')),
        note: fc.option(fc.string({ maxLength: 100 }).map((t) => t.trim())),
      },
      { requiredKeys: ['measuredAt', 'mmol'] },
    ),
  },
  externalIdentityBody: {
    schema: externalIdentityBody,
    fields: { subject: string },
    valid: fc.record({ subject: fc.string({ minLength: 1, maxLength: 255 }).filter((t) => t.trim().length > 0) }),
  },
  readingsRangeQuery: {
    schema: readingsRangeQuery,
    validSchema: readingsRangeQueryAt(() => NOW),
    fields: { from: string, to: string },
    valid: fc
      .record({
        to: fc.option(fc.integer({ min: -365 * DAY, max: 7 * DAY }), { nil: undefined }),
        length: fc.option(fc.integer({ min: 1, max: 90 * DAY }), { nil: undefined }),
        fromOffset: offset,
        toOffset: offset,
      })
      .map(({ to, length, fromOffset, toOffset }) => {
        const end = NOW.getTime() + (to ?? 0);
        return {
          ...(to !== undefined ? { to: written(new Date(end), toOffset) } : {}),
          ...(length !== undefined ? { from: written(new Date(end - length), fromOffset) } : {}),
        };
      }),
  },
  snoozeBody: {
    schema: snoozeBody,
    fields: { rule: string, minutes: number, note: nullableString },
    valid: fc.record(
      {
        rule: fc.constantFrom('urgent_low', 'low', 'high', 'urgent_high', 'no_data', 'rapid_change'),
        minutes: fc.integer({ min: 5, max: 7 * 24 * 60 }),
        note: fc.option(fc.string({ maxLength: 100 }).map((t) => t.trim())),
      },
      { requiredKeys: ['rule', 'minutes'] },
    ),
  },
  alertsQuery: {
    schema: alertsQuery,
    fields: { state: string, teamId: string, patientId: string, limit: { type: 'coerced' } },
    valid: fc.record(
      {
        state: fc.constantFrom('open', 'acknowledged', 'resolved', 'live', 'all'),
        teamId: uuid,
        patientId: uuid,
        limit: fc.integer({ min: 1, max: 1000 }).chain((n) => fc.constantFrom<number | string>(n, String(n))),
      },
      { requiredKeys: [] },
    ),
  },
  auditQuery: {
    schema: auditQuery,
    fields: { patientId: string, userId: string, from: string, to: string, limit: { type: 'coerced' } },
    valid: fc
      .record(
        {
          patientId: uuid,
          userId: uuid,
          from: fc.tuple(fc.date({ min: new Date('2020-01-01'), max: NOW, noInvalidDate: true }), offset),
          to: fc.tuple(fc.date({ min: new Date('2020-01-01'), max: NOW, noInvalidDate: true }), offset),
          limit: fc.integer({ min: 1, max: 1000 }).chain((n) => fc.constantFrom<number | string>(n, String(n))),
        },
        { requiredKeys: [] },
      )
      .map(({ from, to, ...rest }) => ({
        ...rest,
        ...(from ? { from: written(...from) } : {}),
        ...(to ? { to: written(...to) } : {}),
      })),
  },
  summaryQuery: {
    schema: summaryQuery,
    fields: { days: { type: 'coerced' } },
    valid: fc.record(
      { days: fc.integer({ min: 1, max: 90 }).chain((n) => fc.constantFrom<number | string>(n, String(n))) },
      { requiredKeys: [] },
    ),
  },
  agpQuery: {
    schema: agpQuery,
    fields: { days: { type: 'coerced' }, binMinutes: { type: 'coerced' } },
    valid: fc.record(
      {
        days: fc.integer({ min: 1, max: 90 }).chain((n) => fc.constantFrom<number | string>(n, String(n))),
        binMinutes: fc.constantFrom(5, 10, 15, 20, 30, 60).chain((n) => fc.constantFrom<number | string>(n, String(n))),
      },
      { requiredKeys: [] },
    ),
  },
};

// The readings route's query (core/src/wire/readings-export.ts): the range and a format.
CASES.readingsQuery = {
  schema: readingsQuery,
  validSchema: readingsQueryAt(() => NOW),
  fields: { from: string, to: string, format: string },
  valid: fc
    .tuple(CASES.readingsRangeQuery!.valid, fc.option(fc.constantFrom('json', 'csv'), { nil: undefined }))
    .map(([range, format]) => (format === undefined ? range : { ...range, format })),
};

// The team report's query (core/src/wire/team-report.ts): instants or Swedish calendar days, and a format.
const reportBound = fc.oneof(
  fc
    .tuple(fc.date({ min: new Date('2020-01-01'), max: NOW, noInvalidDate: true }), offset)
    .map(([d, o]) => written(d, o)),
  fc.date({ min: new Date('2020-01-01'), max: NOW, noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
);
CASES.teamReportQuery = {
  schema: teamReportQuery,
  fields: { from: string, to: string, format: string },
  valid: fc.record(
    { from: reportBound, to: reportBound, format: fc.constantFrom('json', 'csv') },
    { requiredKeys: [] },
  ),
};

/** A value of any JSON type but `type` (and not null unless the field is not nullable). */
function wrongValue(type: FieldType, nullable = false): fc.Arbitrary<unknown> {
  const others: Record<FieldType, fc.Arbitrary<unknown>[]> = {
    string: [fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.array(fc.string()), fc.constant({})],
    number: [fc.string(), fc.boolean(), fc.array(fc.integer()), fc.constant({})],
    boolean: [fc.string(), fc.integer(), fc.array(fc.boolean()), fc.constant({})],
    array: [fc.string(), fc.integer(), fc.boolean(), fc.constant({ 0: 'säbo' })],
    coerced: [fc.constantFrom('abc', 'ten', '1,5', {}, [1, 2])],
  };
  return fc.oneof(...others[type], ...(nullable ? [] : [fc.constant(null)]));
}

// The follow-up and meter routes (issues 14 and 15): periods reuse the readings range generator.
const meterSerialText = fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/);
const period = () => CASES.readingsRangeQuery!.valid;
CASES.accessLogQuery = {
  schema: accessLogQuery,
  fields: { from: string, to: string, format: string },
  valid: fc
    .tuple(period(), fc.option(fc.constantFrom('json', 'csv'), { nil: undefined }))
    .map(([range, format]) => (format === undefined ? range : { ...range, format })),
};
CASES.auditSearchQuery = {
  schema: auditSearchQuery,
  fields: { ...CASES.auditQuery!.fields, teamId: string, cursor: string },
  valid: fc
    .tuple(CASES.auditQuery!.valid, fc.option(uuid, { nil: undefined }))
    .map(([query, teamId]) => (teamId === undefined ? query : { ...query, teamId })),
};
CASES.auditReviewQuery = {
  schema: auditReviewQuery,
  validSchema: auditReviewQueryAt(() => NOW),
  fields: { from: string, to: string },
  valid: period(),
};
CASES.auditReviewBody = {
  schema: auditReviewBody,
  fields: { from: string, to: string, conclusion: string },
  valid: fc
    .tuple(
      period().filter((r) => typeof r.from === 'string' && typeof r.to === 'string'),
      fc.option(fc.string({ maxLength: 2000 }), { nil: undefined }),
    )
    .map(([range, conclusion]) => (conclusion === undefined ? range : { ...range, conclusion })),
};
CASES.deviceReplacementsQuery = {
  schema: deviceReplacementsQuery,
  validSchema: deviceReplacementsQueryAt(() => NOW),
  fields: { from: string, to: string, format: string },
  valid: CASES.accessLogQuery.valid,
};
CASES.lendDeviceBody = {
  schema: lendDeviceBody,
  fields: { patientId: string },
  valid: fc.record({ patientId: uuid }),
};
CASES.replaceDeviceBody = {
  schema: replaceDeviceBody,
  fields: { newSerial: string, reason: string, cause: nullableString },
  valid: fc.record({
    newSerial: meterSerialText,
    reason: fc.constantFrom(...REPLACEMENT_REASONS),
    cause: fc.stringMatching(/^[a-zåäö][a-zåäö ]{0,98}[a-zåäö]$/),
  }),
};
CASES.meterQuery = { schema: meterQuery, fields: { serial: string }, valid: fc.record({ serial: meterSerialText }) };
CASES.meterPairBody = {
  schema: meterPairBody,
  fields: { serial: string },
  valid: fc.record({ serial: meterSerialText }),
};
CASES.meterReadingsBody = {
  schema: meterReadingsBody,
  fields: { serial: string, readings: { type: 'array' } },
  valid: fc.record({ serial: meterSerialText, readings: fc.array(fc.anything(), { maxLength: 20 }) }),
};

describe('People API schemas', () => {
  it('cover every request schema exported by the wire module', () => {
    // Answers (`...View`) are produced by the server, not parsed from clients: no fuzzing needed.
    const exported = Object.entries(wire)
      .filter(([name, value]) => value instanceof z.ZodType && !name.endsWith('View'))
      .map(([name]) => name);
    expect(exported.sort()).toEqual(Object.keys(CASES).sort());
  });

  for (const [name, c] of Object.entries(CASES)) {
    describe(name, () => {
      it('accepts every valid input', () => {
        fc.assert(
          fc.property(c.valid, (input) => {
            const parsed = parseWith(c.validSchema ?? c.schema, input);
            expect(parsed).toMatchObject({ ok: true });
          }),
          { numRuns: 200 },
        );
      });

      it('names exactly the field that has the wrong type', () => {
        const field = fc
          .constantFrom(...Object.keys(c.fields))
          .chain((key) => fc.tuple(fc.constant(key), wrongValue(c.fields[key]!.type, c.fields[key]!.nullable)));
        fc.assert(
          fc.property(c.valid, field, (input, [key, value]) => {
            const parsed = parseWith(c.schema, { ...input, [key]: value });
            expect(parsed).toEqual({
              ok: false,
              error: { code: 'VALIDATION_FAILED', field: key, message: expect.stringMatching(new RegExp(`^${key} `)) },
            });
          }),
          { numRuns: 200 },
        );
      });

      it('rejects an unknown key, naming it', () => {
        const unknownKey = fc
          .string({ minLength: 1, maxLength: 20 })
          .filter((k) => !(k in c.fields) && k !== '__proto__' && !k.includes('.'));
        fc.assert(
          fc.property(c.valid, unknownKey, fc.jsonValue(), (input, key, value) => {
            const parsed = parseWith(c.schema, { ...input, [key]: value });
            expect(parsed).toEqual({
              ok: false,
              error: {
                code: 'VALIDATION_FAILED',
                field: key,
                message: `${key} is not a field of this request.`,
              },
            });
          }),
          { numRuns: 100 },
        );
      });

      it('gives an input JSON Schema with an id, its fields and no others', () => {
        const schema = z.toJSONSchema(c.schema, { io: 'input' }) as Record<string, unknown>;
        expect(schema).toMatchObject({ type: 'object', additionalProperties: false });
        expect(Object.keys(schema.properties as object).sort()).toEqual(Object.keys(c.fields).sort());
        expect(z.globalRegistry.get(c.schema)).toMatchObject({
          id: expect.any(String),
          description: expect.any(String),
        });
        expect(() => JSON.stringify(schema)).not.toThrow();
      });

      it('refuses a body that is not an object, without naming a field', () => {
        for (const body of [null, 'text', 42, [], true]) {
          expect(parseWith(c.schema, body)).toEqual({
            ok: false,
            error: { code: 'VALIDATION_FAILED', message: 'The request must be a JSON object.' },
          });
        }
      });
    });
  }
});

describe('validationError', () => {
  const errorOf = (schema: z.ZodType, input: unknown) => {
    const result = schema.safeParse(input);
    if (result.success) throw new Error('expected a validation failure');
    return validationError(result.error);
  };

  it('writes a plain sentence naming the field', () => {
    const cases: Array<[z.ZodType, unknown, string, string]> = [
      [newTeamBody, {}, 'name', 'name is required.'],
      [newTeamBody, { name: '   ' }, 'name', 'name must not be empty.'],
      [newTeamBody, { name: 'x'.repeat(121) }, 'name', 'name must be at most 120 characters long.'],
      [newTeamBody, { name: null }, 'name', 'name must be a string, not null.'],
      [
        newTeamBody,
        { name: 'A', escalateAfterMinutes: 1.5 },
        'escalateAfterMinutes',
        'escalateAfterMinutes must be a whole number.',
      ],
      [
        newTeamBody,
        { name: 'A', escalateAfterMinutes: 0 },
        'escalateAfterMinutes',
        'escalateAfterMinutes must be at least 1.',
      ],
      [
        newTeamBody,
        { name: 'A', escalateAfterMinutes: 1441 },
        'escalateAfterMinutes',
        'escalateAfterMinutes must be at most 1440.',
      ],
      [newTeamBody, { name: 'A', escalationTeamId: 'team-1' }, 'escalationTeamId', 'escalationTeamId must be a UUID.'],
      [newTeamBody, { name: 'A', nmae: 'B' }, 'nmae', 'nmae is not a field of this request.'],
      [newUserBody, { email: 'anna', name: 'A', password: 'x'.repeat(12) }, 'email', 'email must be an email address.'],
      [
        newUserBody,
        { email: 'a@b.se', name: 'A', password: 'short' },
        'password',
        'password must be at least 12 characters long.',
      ],
      [
        newUserBody,
        { email: 'a@b.se', name: 'A', password: 'x'.repeat(12), sysadmin: 'yes' },
        'sysadmin',
        'sysadmin must be true or false.',
      ],
      [
        newMembershipBody,
        { userId: SOME_ID, role: 'boss' },
        'role',
        "role must be one of 'nurse', 'physician' or 'admin'.",
      ],
      [newPatientBody, { name: 'A', teamId: SOME_ID, labels: ['a', 'b', 7] }, 'labels.2', 'labels.2 must be a string.'],
      [newPatientBody, { name: 'A', teamId: SOME_ID, labels: 'säbo' }, 'labels', 'labels must be a list (JSON array).'],
      [thresholdsBody, { low: 4.15 }, 'low', 'low must have at most one decimal.'],
      [thresholdsBody, { urgentHigh: 30.1 }, 'urgentHigh', 'urgentHigh must be at most 30.'],
      [thresholdsBody, { noDataMinutes: 4 }, 'noDataMinutes', 'noDataMinutes must be at least 5.'],
      [
        teamThresholdsBody,
        { rapidChangeMmolPerMin: 0.01 },
        'rapidChangeMmolPerMin',
        'rapidChangeMmolPerMin must be at least 0.05.',
      ],
      [
        newDeviceBody,
        { serial: 'GB 1', kind: 'bgm', patientId: SOME_ID },
        'serial',
        "serial may hold only letters A-Z, digits, '.', '_', ':' and '-'.",
      ],
      [
        newDeviceBody,
        { serial: 'x'.repeat(65), kind: 'bgm', patientId: SOME_ID },
        'serial',
        'serial must be at most 64 characters long.',
      ],
      [
        newDeviceBody,
        { serial: 'GB-1', kind: 'pump', patientId: SOME_ID },
        'kind',
        "kind must be one of 'bgm' or 'cgm'.",
      ],
      [
        acknowledgeBody,
        { action: 'phone', note: 'x'.repeat(2001) },
        'note',
        'note must be at most 2000 characters long.',
      ],
      [
        readingsRangeQuery,
        { from: '2025-06-15T08:00:00' },
        'from',
        'from must be an ISO-8601 date-time with a UTC offset, such as 2025-03-01T08:00:00+01:00.',
      ],
    ];
    for (const [schema, input, field, message] of cases) {
      expect(errorOf(schema, input), JSON.stringify(input)).toEqual({ code: 'VALIDATION_FAILED', field, message });
    }
  });

  it('says "is required" with or without the input in the issues', () => {
    expect(parseWith(loginBody, { email: 'a@b.se' })).toEqual({
      ok: false,
      error: { code: 'VALIDATION_FAILED', field: 'password', message: 'password is required.' },
    });
    expect(errorOf(loginBody, { email: 'a@b.se' })).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'password',
      message: 'password is required.',
    });
  });

  it('does not repeat the input in the message (passwords stay out of logs)', () => {
    const secret = 'correct horse battery staple';
    const failed = parseWith(newUserBody, { email: 'a@b.se', name: 'A', password: secret, extra: secret });
    expect(JSON.stringify(failed)).not.toContain(secret);
  });
});

describe('normalisation', () => {
  it('trims names and lower-cases and trims email addresses', () => {
    expect(
      parseWith(newUserBody, { email: ' Anna.Berg@Region.SE ', name: ' Anna Berg ', password: 'x'.repeat(12) }),
    ).toEqual({
      ok: true,
      value: { email: 'anna.berg@region.se', name: 'Anna Berg', password: 'x'.repeat(12) },
    });
    expect(parseWith(loginBody, { email: ' Anna.Berg@Region.SE', password: ' pass ' })).toEqual({
      ok: true,
      value: { email: 'anna.berg@region.se', password: ' pass ' },
    });
  });

  it('normalises labels: trimmed, NFC, lower-cased, duplicates removed in first-seen order', () => {
    const parsed = parseWith(newPatientBody, {
      name: 'Astrid',
      teamId: SOME_ID,
      labels: [' SÄBO ', 'Hemsjukvård', 'sa\u0308bo', 'säbo', 'HEMSJUKVÅRD'],
    });
    expect(parsed).toMatchObject({ ok: true, value: { labels: ['säbo', 'hemsjukvård'] } });
  });

  it('normalises any list of labels the same way', () => {
    const variant = fc
      .tuple(labelText, fc.boolean(), fc.constantFrom('', ' ', '  '), fc.constantFrom('', ' '))
      .map(([text, upper, before, after]) => ({ text, raw: `${before}${upper ? text.toUpperCase() : text}${after}` }));
    fc.assert(
      fc.property(fc.array(variant, { maxLength: 30 }), (variants) => {
        const expected = [...new Set(variants.map((v) => v.text))];
        const parsed = parseWith(newPatientBody, { name: 'A', teamId: SOME_ID, labels: variants.map((v) => v.raw) });
        if (expected.length <= 20) {
          expect(parsed).toMatchObject({ ok: true, value: { labels: expected } });
        } else {
          expect(parsed).toEqual({
            ok: false,
            error: { code: 'VALIDATION_FAILED', field: 'labels', message: 'labels must hold at most 20 items.' },
          });
        }
      }),
    );
  });

  it('checks each label: 1-40 characters after trimming', () => {
    const base = { name: 'A', teamId: SOME_ID };
    expect(parseWith(newPatientBody, { ...base, labels: ['a', '   '] })).toMatchObject({
      ok: false,
      error: { field: 'labels.1', message: 'labels.1 must not be empty.' },
    });
    expect(parseWith(newPatientBody, { ...base, labels: ['a', 'b', 'x'.repeat(41)] })).toMatchObject({
      ok: false,
      error: { field: 'labels.2', message: 'labels.2 must be at most 40 characters long.' },
    });
    expect(parseWith(newPatientBody, { ...base, labels: [` ${'x'.repeat(40)} `] })).toMatchObject({ ok: true });
  });

  it('validates and normalises the identity number, and says why one is refused', () => {
    const base = { name: 'Astrid', teamId: SOME_ID };
    for (const written of ['19121212-1212', '121212+1212', ' 191212121212 ']) {
      expect(parseWith(newPatientBody, { ...base, identityNumber: written })).toMatchObject({
        ok: true,
        value: { identityNumber: '191212121212' },
      });
    }
    expect(parseWith(newPatientBody, { ...base, identityNumber: null })).toMatchObject({
      ok: true,
      value: { identityNumber: null },
    });
    expect(parseWith(newPatientBody, { ...base, identityNumber: '19121212-1213' })).toEqual({
      ok: false,
      error: {
        code: 'VALIDATION_FAILED',
        field: 'identityNumber',
        message: expect.stringMatching(
          /^identityNumber is not a valid personnummer or samordningsnummer: its check digit .*\.$/,
        ),
      },
    });
    expect(parseWith(newPatientBody, { ...base, identityNumber: '1912-12-12' })).toMatchObject({
      ok: false,
      error: { field: 'identityNumber', message: expect.stringMatching(/10 or 12 digits/) },
    });
  });

  it('keeps the absent fields of a patient update absent, null clears, and the team is not changed here', () => {
    expect(parseWith(patientUpdateBody, { name: 'B' })).toEqual({ ok: true, value: { name: 'B' } });
    expect(parseWith(patientUpdateBody, {})).toEqual({ ok: true, value: {} });
    expect(parseWith(patientUpdateBody, { identityNumber: null, responsiblePhysicianId: null })).toEqual({
      ok: true,
      value: { identityNumber: null, responsiblePhysicianId: null },
    });
    expect(parseWith(patientUpdateBody, { teamId: SOME_ID })).toMatchObject({ ok: false, error: { field: 'teamId' } });
  });
});

describe('thresholds', () => {
  const keys = ['urgentLow', 'low', 'high', 'urgentHigh'] as const;
  const slot = fc.option(mmol, { nil: undefined });

  for (const [name, schema, nullable] of [
    ['thresholdsBody', thresholdsBody, true],
    ['teamThresholdsBody', teamThresholdsBody, false],
  ] as const) {
    it(`${name}: accepted exactly when the values given rise urgentLow < low < high < urgentHigh`, () => {
      const values = fc
        .tuple(slot, slot, slot, slot)
        .chain((v) =>
          nullable
            ? fc.tuple(...v.map((x) => (x === undefined ? fc.constantFrom(undefined, null) : fc.constant(x))))
            : fc.constant(v),
        );
      fc.assert(
        fc.property(values, (v) => {
          const input = Object.fromEntries(keys.map((k, i) => [k, v[i]]).filter(([, x]) => x !== undefined));
          const given = v.filter((x): x is number => typeof x === 'number');
          const rises = given.every((x, i) => i === 0 || x > given[i - 1]!);
          const parsed = parseWith(schema, input);
          if (rises) {
            expect(parsed).toEqual({ ok: true, value: input });
          } else {
            expect(parsed).toMatchObject({
              ok: false,
              error: { code: 'VALIDATION_FAILED', field: expect.stringMatching(/^(low|high|urgentHigh)$/) },
            });
            const error = (parsed as { error: { field: string; message: string } }).error;
            expect(error.message).toMatch(new RegExp(`^${error.field} must be greater than \\w+ \\([\\d.]+\\)`));
          }
        }),
        { numRuns: 500 },
      );
    });
  }

  it('names the first threshold out of order and the one it must exceed', () => {
    expect(parseWith(thresholdsBody, { urgentLow: 3, low: 3, high: 14 })).toEqual({
      ok: false,
      error: {
        code: 'VALIDATION_FAILED',
        field: 'low',
        message: 'low must be greater than urgentLow (3): thresholds rise urgentLow < low < high < urgentHigh.',
      },
    });
    expect(parseWith(thresholdsBody, { urgentLow: null, low: 4, high: null, urgentHigh: 3.9 })).toMatchObject({
      ok: false,
      error: { field: 'urgentHigh', message: expect.stringMatching(/greater than low \(4\)/) },
    });
  });

  it('accepts the SPEC defaults and null as "back to the team default"', () => {
    const defaults = { urgentLow: 3, low: 4, high: 13.9, urgentHigh: 20 };
    expect(
      parseWith(teamThresholdsBody, {
        ...defaults,
        noDataMinutesBgm: 2880,
        noDataMinutesCgm: 30,
        rapidChangeMmolPerMin: 0.17,
      }),
    ).toMatchObject({ ok: true });
    expect(parseWith(thresholdsBody, { ...defaults, noDataMinutes: 60 })).toMatchObject({ ok: true });
    expect(
      parseWith(thresholdsBody, { urgentLow: null, low: null, high: null, urgentHigh: null, noDataMinutes: null }),
    ).toMatchObject({ ok: true });
    expect(parseWith(teamThresholdsBody, { low: null })).toMatchObject({ ok: false, error: { field: 'low' } });
  });
});

describe('readingsRangeQuery', () => {
  const range = readingsRangeQueryAt(() => NOW);

  it('defaults to the last 24 hours, to = now and from = to - 24 h', () => {
    expect(parseWith(range, {})).toEqual({ ok: true, value: { from: new Date(NOW.getTime() - DAY), to: NOW } });
    expect(parseWith(range, { to: '2025-06-01T12:00:00+02:00' })).toEqual({
      ok: true,
      value: { from: new Date('2025-05-31T10:00:00Z'), to: new Date('2025-06-01T10:00:00Z') },
    });
    expect(parseWith(range, { from: '2025-06-15T08:00:00Z' })).toEqual({
      ok: true,
      value: { from: new Date('2025-06-15T08:00:00Z'), to: NOW },
    });
  });

  it('needs from before to, at most 90 days apart', () => {
    const at = (from: string, to: string) => parseWith(range, { from, to });
    expect(at('2025-06-01T00:00:00Z', '2025-06-01T00:00:00Z')).toEqual({
      ok: false,
      error: { code: 'VALIDATION_FAILED', field: 'from', message: 'from must be before to.' },
    });
    expect(at('2025-03-03T00:00:00Z', '2025-06-01T00:00:00Z')).toMatchObject({ ok: true });
    expect(at('2025-03-02T23:59:59Z', '2025-06-01T00:00:00Z')).toEqual({
      ok: false,
      error: { code: 'VALIDATION_FAILED', field: 'from', message: 'from must be at most 90 days before to.' },
    });
    expect(parseWith(range, { from: '2025-06-15T12:00:00Z' })).toMatchObject({
      ok: false,
      error: { field: 'from', message: 'from must be before now.' },
    });
  });

  it('reads the real clock when no clock is given', () => {
    const before = Date.now();
    const parsed = parseWith(readingsRangeQuery, {});
    expect(parsed.ok && parsed.value.to.getTime()).toBeGreaterThanOrEqual(before);
  });

  it('resolves any valid range to from < to within 90 days', () => {
    fc.assert(
      fc.property(CASES.readingsRangeQuery!.valid, (input) => {
        const parsed = parseWith(range, input);
        if (!parsed.ok) throw new Error(parsed.error.message);
        const { from, to } = parsed.value;
        expect(from.getTime()).toBeLessThan(to.getTime());
        expect(to.getTime() - from.getTime()).toBeLessThanOrEqual(90 * DAY);
        if (typeof input.to === 'string') expect(to).toEqual(new Date(input.to));
        if (typeof input.from === 'string') expect(from).toEqual(new Date(input.from));
      }),
    );
  });
});

describe('auditQuery', () => {
  it('defaults to everything until now, 200 events', () => {
    const before = Date.now();
    const parsed = parseWith(auditQuery, {});
    expect(parsed).toMatchObject({ ok: true, value: { from: new Date(0), limit: 200 } });
    expect(parsed.ok && parsed.value.to.getTime()).toBeGreaterThanOrEqual(before);
  });

  it('takes the limit as a query string gives it, 1-1000', () => {
    expect(parseWith(auditQuery, { limit: '50' })).toMatchObject({ ok: true, value: { limit: 50 } });
    expect(parseWith(auditQuery, { limit: '0' })).toMatchObject({
      ok: false,
      error: { field: 'limit', message: 'limit must be at least 1.' },
    });
    expect(parseWith(auditQuery, { limit: '1001' })).toMatchObject({
      ok: false,
      error: { field: 'limit', message: 'limit must be at most 1000.' },
    });
    expect(parseWith(auditQuery, { limit: 'all' })).toMatchObject({
      ok: false,
      error: { field: 'limit', message: 'limit must be a number.' },
    });
  });

  it('parses date-times with offsets into instants, and stays an object routes can pick from', () => {
    expect(parseWith(auditQuery, { from: '2025-01-01T00:00:00+01:00' })).toMatchObject({
      ok: true,
      value: { from: new Date('2024-12-31T23:00:00Z') },
    });
    const extract = auditQuery
      .pick({ from: true, to: true })
      .extend({ format: z.enum(['json', 'csv']).default('json') });
    expect(extract.parse({ to: '2025-01-01T00:00:00Z' })).toEqual({
      from: new Date(0),
      to: new Date('2025-01-01T00:00:00Z'),
      format: 'json',
    });
    expect(extract.safeParse({ limit: '5' }).success).toBe(false);
    expect(z.toJSONSchema(extract, { io: 'input' })).toMatchObject({ properties: { from: {}, to: {}, format: {} } });
  });
});
