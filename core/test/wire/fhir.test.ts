import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cgmDaysOfWear, summarize, type GlucoseReading } from '../../src/domain/index.ts';
import {
  capabilityStatement,
  cgmSummaryObservations,
  CGM_DATA_RECEIVER,
  dateBounds,
  decodeCursor,
  encodeCursor,
  LOINC,
  operationOutcome,
  parseObservationSearch,
  parseSubmission,
  patientResource,
  readingObservation,
  searchsetBundle,
  transactionResponse,
  UCUM,
  type Observation,
  type ReadingForFhir,
} from '../../src/wire/fhir/index.ts';
import { fhirErrors } from './fhir-validator.ts';

const PATIENT = '0b7f1a52-3f0e-4d7e-9d0a-2f9d3c1e5a10';
const USER = '5f2c9e1a-7b3d-4c8e-a1f0-9d2b6e4c3a21';
const AT = new Date('2025-03-04T05:06:07.000Z');

const reading = (over: Partial<ReadingForFhir> = {}): ReadingForFhir => ({
  key: 'd00000000000000000042/cgm-1',
  measuredAt: AT,
  receivedAt: new Date(AT.getTime() + 1500),
  mmol: 6.7,
  flag: null,
  kind: 'cgm',
  source: 'device',
  deviceSerial: 'cgm-1',
  seq: 42,
  enteredBy: null,
  importIdentifier: null,
  ...over,
});

const codesOf = (o: { code: { coding?: Array<{ system?: string; code?: string }> } }) =>
  (o.code.coding ?? []).map((c) => `${c.system}|${c.code}`);

describe('readings as Observations (SPEC section 3, CGM IG sensor reading profile)', () => {
  it('a CGM reading is the IG cgm-sensor-reading-moles-per-volume: LOINC 105272-9, UCUM mmol/L, and valid FHIR', () => {
    const o = readingObservation(PATIENT, reading());
    expect(fhirErrors(o)).toEqual([]);
    expect(o.meta?.profile).toEqual([
      'http://hl7.org/fhir/uv/cgm/StructureDefinition/cgm-sensor-reading-moles-per-volume',
    ]);
    expect(codesOf(o)).toEqual([`${LOINC}|105272-9`]);
    // The IG's GlucoseMolesPerVolume rule: valueQuantity = 'mmol/L' "mmol/l"; subject 1..1; effectiveDateTime 1..1.
    expect(o.valueQuantity).toEqual({ value: 6.7, unit: 'mmol/l', system: UCUM, code: 'mmol/L' });
    expect(o.subject).toEqual({ reference: `Patient/${PATIENT}` });
    expect(o.effectiveDateTime).toBe('2025-03-04T05:06:07.000Z');
    expect(o.status).toBe('final');
    expect(o.category?.[0]?.coding).toEqual([
      { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' },
    ]);
    expect(o.identifier).toEqual([{ system: 'urn:ietf:rfc:3986', value: 'urn:glucoboard:reading:cgm-1:42' }]);
  });

  it('a fingerstick reading is LOINC 14743-9 in UCUM mmol/L, with no CGM profile', () => {
    const o = readingObservation(PATIENT, reading({ kind: 'bgm', deviceSerial: 'bgm-1', key: 'd1/bgm-1', mmol: 5.4 }));
    expect(fhirErrors(o)).toEqual([]);
    expect(codesOf(o)).toEqual([`${LOINC}|14743-9`]);
    expect(o.meta).toBeUndefined();
    expect(o.valueQuantity).toMatchObject({ value: 5.4, system: UCUM, code: 'mmol/L' });
  });

  it.each([
    ['LO', 'negative-infinity', '<'],
    ['HI', 'positive-infinity', '>'],
  ] as const)(
    'a %s reading has no value but a dataAbsentReason (%s) and an off-scale interpretation (IG cgm-sensor-value-or-dar)',
    (flag, absent, interpretation) => {
      // A meter may send a number with LO/HI; the flag is what it means, the number is not shown.
      const o = readingObservation(PATIENT, reading({ flag, mmol: flag === 'LO' ? 1.1 : null }));
      expect(fhirErrors(o)).toEqual([]);
      expect(o.valueQuantity).toBeUndefined();
      expect(o.dataAbsentReason?.coding).toEqual([
        { system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: absent },
      ]);
      expect(o.interpretation?.[0]?.coding).toEqual([
        { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: interpretation },
      ]);
    },
  );

  it('the validator catches the value-and-absent mistake the mapping must never make (obs-6)', () => {
    const broken = { ...readingObservation(PATIENT, reading({ flag: 'HI' })), valueQuantity: { value: 33.3 } };
    expect(fhirErrors(broken).join('\n')).toMatch(/obs-6/);
  });

  it('a manual entry names who typed it in (performer); an import keeps its submitter identifier', () => {
    const manual = readingObservation(
      PATIENT,
      reading({
        kind: 'bgm',
        source: 'manual',
        deviceSerial: null,
        seq: null,
        key: 'r1',
        enteredBy: { id: USER, name: 'Nurse' },
      }),
    );
    expect(fhirErrors(manual)).toEqual([]);
    expect(manual.performer).toEqual([
      {
        type: 'Practitioner',
        identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${USER}` },
        display: 'Nurse',
      },
    ]);
    expect(manual.identifier).toBeUndefined();
    const imported = readingObservation(
      PATIENT,
      reading({
        source: 'import',
        deviceSerial: null,
        seq: null,
        key: 'r2',
        importIdentifier: { system: 'https://app.example', value: 'x-1' },
      }),
    );
    expect(fhirErrors(imported)).toEqual([]);
    expect(imported.identifier).toEqual([{ system: 'https://app.example', value: 'x-1' }]);
  });

  it('ids are FHIR ids, stable, and differ between readings', () => {
    const a = readingObservation(PATIENT, reading()).id!;
    expect(a).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
    expect(readingObservation(PATIENT, reading()).id).toBe(a);
    expect(readingObservation(PATIENT, reading({ key: 'd00000000000000000043/cgm-1' })).id).not.toBe(a);
  });
});

describe('Patient', () => {
  it('carries the personnummer under its OID, or a samordningsnummer under its own', () => {
    const p = patientResource({ id: PATIENT, name: 'Tolvan Tolvansson', identityNumber: '191212121212' });
    expect(fhirErrors(p)).toEqual([]);
    expect(p.identifier).toEqual([{ use: 'official', system: 'urn:oid:1.2.752.129.2.1.3.1', value: '191212121212' }]);
    expect(p.name).toEqual([{ text: 'Tolvan Tolvansson' }]);
    const coordination = patientResource({ id: PATIENT, name: 'S', identityNumber: '197010632391' });
    expect(coordination.identifier?.[0]?.system).toBe('urn:oid:1.2.752.129.2.1.3.3');
    expect(patientResource({ id: PATIENT, name: 'N', identityNumber: null }).identifier).toBeUndefined();
  });
});

/** 14 days of CGM every 5 min (a few hours off each day), plus LO/HI and a fingerstick. */
function fortnight(now: Date): GlucoseReading[] {
  const out: GlucoseReading[] = [];
  for (let t = now.getTime() - 14 * 86_400_000; t < now.getTime(); t += 5 * 60_000) {
    const hour = new Date(t).getUTCHours();
    if (hour === 3) continue;
    out.push({ measuredAt: new Date(t), mmol: 4 + ((t / 60_000) % 97) / 10, flag: null, kind: 'cgm' });
  }
  out.push({ measuredAt: new Date(now.getTime() - 3_600_000), mmol: null, flag: 'LO', kind: 'cgm' });
  out.push({ measuredAt: new Date(now.getTime() - 7_200_000), mmol: null, flag: 'HI', kind: 'cgm' });
  out.push({ measuredAt: new Date(now.getTime() - 9_000_000), mmol: 7.7, flag: null, kind: 'bgm' });
  return out;
}

describe('the CGM summary (IG cgm-summary and its members)', () => {
  const now = new Date('2025-03-15T00:00:00.000Z');
  const from = new Date(now.getTime() - 14 * 86_400_000);
  const readings = fortnight(now);
  const summary = summarize(readings, { now, days: 14, deviceKind: 'cgm' });
  const daysOfWear = cgmDaysOfWear(readings, { now, days: 14 });
  const made = cgmSummaryObservations({ patientId: PATIENT, from, to: now, summary, daysOfWear }) as Observation[];
  const [grouping, ...members] = made;
  const byCode = (code: string) => members.find((m) => codesOf(m).includes(`${LOINC}|${code}`))!;

  it('every resource is valid FHIR R4', () => {
    for (const o of made) expect(fhirErrors(o), o.code.coding?.[0]?.code).toEqual([]);
  });

  it('the summary is LOINC 107931-8 with the period, and hasMember references each of its six members', () => {
    expect(codesOf(grouping!)).toEqual([`${LOINC}|107931-8`]);
    expect(grouping!.effectivePeriod).toEqual({ start: from.toISOString(), end: now.toISOString() });
    // IG: hasMember 6..*, timesInRanges, gmi, cv, daysOfWear, sensorActivePercentage 1..1, a mean 0..1.
    expect(grouping!.hasMember).toHaveLength(6);
    expect(grouping!.hasMember!.map((r) => r.reference)).toEqual(members.map((m) => `Observation/${m.id}`));
    expect(members.map((m) => codesOf(m)[0]).sort()).toEqual(
      ['105273-7', '106793-3', '97506-0', '104638-2', '104636-6', '104637-4'].map((c) => `${LOINC}|${c}`).sort(),
    );
  });

  it("each member has its profile, the summary's subject and period (CGMSummaryBase: effectivePeriod.start/end 1..1)", () => {
    const profiles = Object.fromEntries(members.map((m) => [codesOf(m)[0], m.meta?.profile?.[0]]));
    expect(profiles).toEqual({
      [`${LOINC}|105273-7`]: 'http://hl7.org/fhir/uv/cgm/StructureDefinition/cgm-summary-mean-glucose-moles-per-volume',
      [`${LOINC}|106793-3`]: 'http://hl7.org/fhir/uv/cgm/StructureDefinition/cgm-summary-times-in-ranges',
      [`${LOINC}|97506-0`]: 'http://hl7.org/fhir/uv/cgm/StructureDefinition/cgm-summary-gmi',
      [`${LOINC}|104638-2`]: 'http://hl7.org/fhir/uv/cgm/StructureDefinition/cgm-summary-coefficient-of-variation',
      [`${LOINC}|104636-6`]: 'http://hl7.org/fhir/uv/cgm/StructureDefinition/cgm-summary-days-of-wear',
      [`${LOINC}|104637-4`]: 'http://hl7.org/fhir/uv/cgm/StructureDefinition/cgm-summary-sensor-active-percentage',
    });
    for (const m of members) {
      expect(m.subject).toEqual({ reference: `Patient/${PATIENT}` });
      expect(m.effectivePeriod).toEqual(grouping!.effectivePeriod);
      expect(m.status).toBe('final');
    }
  });

  it('values and units are those the IG requires, with the numbers of summarize()', () => {
    const round2 = (v: number) => Math.round(v * 100) / 100;
    const percent = (value: number) => ({ value: round2(value), unit: '%', system: UCUM, code: '%' });
    expect(byCode('105273-7').valueQuantity).toEqual({
      value: round2(summary.mean!),
      unit: 'mmol/l',
      system: UCUM,
      code: 'mmol/L',
    });
    expect(byCode('97506-0').valueQuantity).toEqual(percent(summary.gmi!));
    expect(byCode('104638-2').valueQuantity).toEqual(percent(summary.cv!));
    expect(byCode('104637-4').valueQuantity).toEqual(percent(summary.dataSufficiency!));
    expect(byCode('104636-6').valueQuantity).toEqual({ value: 14, unit: 'days', system: UCUM, code: 'd' });
    const tir = byCode('106793-3');
    expect(tir.valueQuantity).toBeUndefined();
    expect(tir.component!.map((c) => [codesOf(c)[0], c.valueQuantity])).toEqual([
      [`${LOINC}|104642-4`, percent(summary.ranges.veryLow!)],
      [`${LOINC}|104641-6`, percent(summary.ranges.low!)],
      [`${LOINC}|97510-2`, percent(summary.ranges.inRange!)],
      [`${LOINC}|104640-8`, percent(summary.ranges.high!)],
      [`${LOINC}|104639-0`, percent(summary.ranges.veryHigh!)],
    ]);
  });

  it('is not made without CGM data or with too few numbers: every member value is required', () => {
    const none = summarize([], { now, days: 14, deviceKind: 'bgm' });
    expect(cgmSummaryObservations({ patientId: PATIENT, from, to: now, summary: none, daysOfWear: 0 })).toEqual({
      refused: 'NO_CGM_DATA',
    });
    const one = [{ measuredAt: new Date(now.getTime() - 60_000), mmol: 5, flag: null, kind: 'cgm' as const }];
    const thin = summarize(one, { now, days: 14, deviceKind: 'cgm' });
    expect(
      cgmSummaryObservations({
        patientId: PATIENT,
        from,
        to: now,
        summary: thin,
        daysOfWear: cgmDaysOfWear(one, { now, days: 14 }),
      }),
    ).toEqual({ refused: 'TOO_FEW_READINGS' });
  });

  it('a searchset Bundle of the summary and its members is valid FHIR, members included by search mode', () => {
    const bundle = searchsetBundle({
      base: 'https://gb.example/fhir/r4',
      self: 'https://gb.example/fhir/r4/Observation?code=107931-8',
      matches: [grouping!],
      includes: members,
    });
    expect(fhirErrors(bundle)).toEqual([]);
    expect(bundle.entry!.map((e) => e.search?.mode)).toEqual([
      'match',
      'include',
      'include',
      'include',
      'include',
      'include',
      'include',
    ]);
    expect(bundle.entry![1]!.fullUrl).toBe(`https://gb.example/fhir/r4/Observation/${members[0]!.id}`);
  });
});

describe('days of wear', () => {
  it('counts the 24-hour days of the period holding a CGM reading (fingersticks do not count)', () => {
    const now = new Date('2025-03-15T00:00:00Z');
    const at = (hoursAgo: number, kind: 'cgm' | 'bgm' = 'cgm') => ({
      measuredAt: new Date(now.getTime() - hoursAgo * 3_600_000),
      mmol: 6,
      flag: null,
      kind,
    });
    expect(cgmDaysOfWear([at(1), at(2), at(30), at(24 * 13 + 1), at(50, 'bgm'), at(24 * 20)], { now, days: 14 })).toBe(
      3,
    );
  });
});

describe('Observation search parameters', () => {
  it('reads patient, code, date prefixes and _count', () => {
    const q = parseObservationSearch({
      patient: `Patient/${PATIENT}`,
      code: 'http://loinc.org|105272-9',
      date: ['ge2025-03-01', 'lt2025-03-02T12:00:00Z'],
      _count: '20',
    });
    expect(q).toEqual({
      ok: true,
      value: {
        mode: 'readings',
        patientId: PATIENT,
        kinds: ['cgm'],
        from: new Date('2025-03-01T00:00:00Z'),
        to: new Date('2025-03-02T12:00:00Z'),
        count: 20,
      },
    });
    expect(parseObservationSearch({ patient: PATIENT, code: '107931-8' })).toMatchObject({
      ok: true,
      value: { mode: 'summary' },
    });
  });

  it('gives dates their precision: gt a day starts after it, le a minute ends with it', () => {
    expect(dateBounds(['gt2025-03-01', 'le2025-03-05T10:30Z'.replace('Z', ':00Z')])).toEqual({
      ok: true,
      value: { from: new Date('2025-03-02T00:00:00Z'), to: new Date('2025-03-05T10:30:01Z') },
    });
    expect(dateBounds(['2025-02'])).toEqual({
      ok: true,
      value: { from: new Date('2025-02-01T00:00:00Z'), to: new Date('2025-03-01T00:00:00Z') },
    });
  });

  it('refuses what it does not understand, naming the parameter', () => {
    const refused = (query: Record<string, unknown>) => {
      const q = parseObservationSearch(query);
      return q.ok ? undefined : [q.issue.code, q.issue.expression];
    };
    expect(refused({ code: '105272-9' })).toEqual(['INVALID_SEARCH', 'patient']);
    expect(refused({ patient: 'nobody' })).toEqual(['NOT_FOUND', 'patient']);
    expect(refused({ patient: PATIENT, code: '1234-5' })).toEqual(['UNKNOWN_CODE', 'code']);
    expect(refused({ patient: PATIENT, code: 'http://snomed.info/sct|1' })).toEqual(['UNKNOWN_CODE', 'code']);
    expect(refused({ patient: PATIENT, date: 'ge2025-13-01' })).toEqual(['INVALID_SEARCH', 'date']);
    expect(refused({ patient: PATIENT, _count: '0' })).toEqual(['INVALID_SEARCH', '_count']);
    expect(refused({ patient: PATIENT, _cursor: 'garbage' })).toEqual(['INVALID_SEARCH', '_cursor']);
    expect(refused({ patient: PATIENT, 'value-quantity': 'gt5' })).toEqual(['UNSUPPORTED_PARAMETER', 'value-quantity']);
  });

  it('round-trips the paging cursor', () => {
    const cursor = { measuredAt: AT, key: 'd00000000000000000042/cgm-1' };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });
});

describe('$submit-cgm-bundle input', () => {
  const sensor = (over: Record<string, unknown> = {}) => ({
    fullUrl: `urn:uuid:${randomUUID()}`,
    resource: {
      resourceType: 'Observation',
      status: 'final',
      identifier: [{ system: 'https://cgm-app.example/readings', value: 'r-1' }],
      category: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] },
      ],
      code: { coding: [{ system: LOINC, code: '105272-9' }] },
      subject: { reference: `Patient/${PATIENT}` },
      effectiveDateTime: '2025-03-04T05:06:07Z',
      valueQuantity: { value: 6.7, unit: 'mmol/l', system: UCUM, code: 'mmol/L' },
      ...over,
    },
    request: { method: 'POST', url: 'Observation' },
  });
  const bundle = (...entry: unknown[]) => ({
    resourceType: 'Bundle',
    type: 'transaction',
    timestamp: AT.toISOString(),
    entry,
  });

  it('reads molar and mass sensor readings, LO/HI as data absent, and leaves summaries unstored', () => {
    const input = bundle(
      sensor(),
      sensor({
        identifier: [{ system: 'https://cgm-app.example/readings', value: 'r-2' }],
        code: { coding: [{ system: LOINC, code: '99504-3' }] },
        valueQuantity: { value: 120, unit: 'mg/dl', system: UCUM, code: 'mg/dL' },
      }),
      sensor({
        identifier: [{ system: 'https://cgm-app.example/readings', value: 'r-3' }],
        valueQuantity: undefined,
        dataAbsentReason: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'negative-infinity' }],
        },
      }),
      sensor({ code: { coding: [{ system: LOINC, code: '107931-8' }] }, valueQuantity: undefined }),
    );
    expect(fhirErrors(JSON.parse(JSON.stringify(input)))).toEqual([]);
    const parsed = parseSubmission(input);
    expect(parsed).toEqual({
      ok: true,
      entries: [
        {
          kind: 'reading',
          reading: expect.objectContaining({
            index: 0,
            patientId: PATIENT,
            mmol: 6.7,
            flag: null,
            identifier: { system: 'https://cgm-app.example/readings', value: 'r-1' },
          }),
        },
        { kind: 'reading', reading: expect.objectContaining({ index: 1, mmol: 6.7, flag: null }) },
        { kind: 'reading', reading: expect.objectContaining({ index: 2, mmol: null, flag: 'LO' }) },
        { kind: 'not-stored', index: 3 },
      ],
    });
  });

  it.each([
    ['not a Bundle', { resourceType: 'Observation' }, 'NOT_A_BUNDLE', 'Bundle'],
    ['a batch', { ...bundle(sensor()), type: 'batch' }, 'NOT_A_TRANSACTION', 'Bundle.type'],
    ['no entries', bundle(), 'EMPTY_BUNDLE', 'Bundle.entry'],
    [
      'a PUT',
      bundle({ ...sensor(), request: { method: 'PUT', url: 'Observation/1' } }),
      'METHOD_NOT_ALLOWED',
      'Bundle.entry[0].request.method',
    ],
    [
      'a Medication',
      bundle({ resource: { resourceType: 'Medication' }, request: { method: 'POST', url: 'Medication' } }),
      'RESOURCE_TYPE_NOT_ALLOWED',
      'Bundle.entry[0].resource',
    ],
    [
      'no identifier',
      bundle(sensor({ identifier: undefined })),
      'IDENTIFIER_REQUIRED',
      'Bundle.entry[0].resource.identifier',
    ],
    [
      'another patient reference',
      bundle(sensor({ subject: { reference: 'urn:uuid:1' } })),
      'UNKNOWN_PATIENT',
      'Bundle.entry[0].resource.subject',
    ],
    [
      'mg/dL under the molar code',
      bundle(sensor({ valueQuantity: { value: 120, system: UCUM, code: 'mg/dL' } })),
      'WRONG_UNIT',
      'Bundle.entry[0].resource.valueQuantity.code',
    ],
    [
      'neither value nor absent reason',
      bundle(sensor({ valueQuantity: undefined })),
      'INVALID_BUNDLE',
      'Bundle.entry[0].resource.value',
    ],
    [
      'a time without zone',
      bundle(sensor({ effectiveDateTime: '2025-03-04T05:06:07' })),
      'INVALID_TIME',
      'Bundle.entry[0].resource.effectiveDateTime',
    ],
    [
      'a condition on something else',
      bundle({ ...sensor(), request: { method: 'POST', url: 'Observation', ifNoneExist: 'code=105272-9' } }),
      'UNSUPPORTED_CONDITION',
      'Bundle.entry[0].request.ifNoneExist',
    ],
  ])('refuses %s with a precise issue', (_name, body, code, expression) => {
    const parsed = parseSubmission(body);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect([parsed.issue.code, parsed.issue.expression]).toEqual([code, expression]);
    expect(fhirErrors(operationOutcome(parsed.issue))).toEqual([]);
  });

  it('answers with a valid transaction-response Bundle', () => {
    const answer = transactionResponse([
      { status: '201 Created', location: 'Observation/r-1' },
      {
        status: '200 OK',
        outcome: operationOutcome({
          severity: 'information',
          type: 'informational',
          code: 'NOT_STORED',
          message: 'summary not stored',
        }),
      },
    ]);
    expect(fhirErrors(answer)).toEqual([]);
  });
});

describe('metadata', () => {
  it('is a valid CapabilityStatement that instantiates the IG cgm-data-receiver and names the operation', () => {
    const cs = capabilityStatement({
      base: 'https://gb.example/fhir/r4',
      tokenUrl: 'https://gb.example/fhir/r4/oauth/token',
      date: '2025-03-01',
      version: '0.1.0',
    });
    expect(fhirErrors(cs)).toEqual([]);
    expect(cs.instantiates).toEqual([CGM_DATA_RECEIVER]);
    expect(cs.rest[0]!.operation).toEqual([
      { name: 'submit-cgm-bundle', definition: 'http://hl7.org/fhir/uv/cgm/OperationDefinition/submit-cgm-bundle' },
    ]);
  });
});
