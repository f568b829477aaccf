import type { Request } from 'express';
import { readingFingerprint } from '@glucoboard/core/domain';
import {
  operationOutcome,
  parseSubmission,
  readingObservationId,
  transactionResponse,
  type BundleEntry,
  type SubmittedReading,
} from '@glucoboard/core/fhir';
import { appendEvaluation, inTransaction, storeImportedReadings, type ImportOutcome } from '@glucoboard/core/storage';
import { validateReadingsBatch, type BoardReading, type EvaluationReading } from '@glucoboard/core/wire';
import type { ApiDependencies } from '../api/context.ts';
import {
  fhirPatientAccess,
  recordFhirAccess,
  WRITE_SCOPE,
  writesNeedAClient,
  type FhirCaller,
  type FhirPatientAccess,
} from './callers.ts';
import { FhirError } from './errors.ts';

/** The device rules' batch bound: readings are checked in slices of it. */
const VALIDATION_SLICE = 500;
/** Where a device rule's field is in the submitted Observation. */
const FIELD_PATH: Record<string, string> = { mmol: 'valueQuantity.value', measuredAt: 'effectiveDateTime' };

class Conflict extends Error {
  constructor(readonly index: number) {
    super('identifier conflict');
  }
}

/**
 * The device rules (range 0.6-33.3 unless LO/HI, not in the future, not older than 90 days), with
 * the same codes, so an imported reading is held to exactly what a sensor's would be.
 */
function checkReadings(readings: SubmittedReading[]) {
  const now = Date.now();
  const accepted: Array<{ reading: SubmittedReading; measuredAt: Date }> = [];
  for (let start = 0; start < readings.length; start += VALIDATION_SLICE) {
    const slice = readings.slice(start, start + VALIDATION_SLICE);
    const verdict = validateReadingsBatch(
      {
        readings: slice.map((r, i) => ({ seq: i, measuredAt: r.measuredAt, mmol: r.mmol, flag: r.flag, kind: 'cgm' })),
      },
      { deviceKind: 'cgm', now },
    );
    if (!verdict.ok) throw new Error(`validation refused a slice: ${verdict.code}`);
    const rejection = verdict.rejected[0];
    if (rejection) {
      const entry = slice[rejection.index]!.index;
      throw new FhirError(422, {
        type: 'business-rule',
        code: rejection.code,
        message: rejection.message,
        expression: `Bundle.entry[${entry}].resource${rejection.field ? `.${FIELD_PATH[rejection.field] ?? rejection.field}` : ''}`,
      });
    }
    for (const { index, reading } of verdict.accepted)
      accepted.push({ reading: slice[index]!, measuredAt: reading.measuredAt });
  }
  return accepted;
}

/**
 * POST /fhir/r4/$submit-cgm-bundle (HL7 CGM IG 1.0.0): an API client with write access submits a
 * transaction Bundle of CGM readings for patients of its team. Stored as readings with source
 * `import`, exactly once per (patient, identifier) in one transaction with their evaluation outbox
 * row, then shown live on the responsible team's boards: the way of a manual entry (see
 * server/src/ingest/pipeline.ts). Answers a transaction-response Bundle in the order of the entries.
 */
export async function submitCgmBundle(deps: ApiDependencies, caller: FhirCaller, req: Request, origin: string) {
  const db = deps.db.pool;
  if (caller.kind !== 'client') throw writesNeedAClient();
  const parsed = parseSubmission(req.body);
  if (!parsed.ok) throw new FhirError(parsed.issue.type === 'not-supported' ? 422 : 400, parsed.issue);
  const readings = parsed.entries.flatMap((e) => (e.kind === 'reading' ? [e.reading] : []));

  const access = new Map<string, FhirPatientAccess>();
  for (const patientId of new Set(readings.map((r) => r.patientId))) {
    access.set(patientId, await fhirPatientAccess(db, caller, patientId, 'write', WRITE_SCOPE));
  }
  const checked = checkReadings(readings);

  const outcomes = new Map<number, ImportOutcome>();
  try {
    await inTransaction(db, async (client) => {
      for (const [patientId] of access) {
        const mine = checked.filter((c) => c.reading.patientId === patientId);
        const results = await storeImportedReadings(
          client,
          patientId,
          mine.map(({ reading, measuredAt }) => ({
            identifierSystem: reading.identifier.system,
            identifierValue: reading.identifier.value,
            measuredAt,
            mmol: reading.mmol,
            flag: reading.flag,
            fingerprint: readingFingerprint({
              measuredAt,
              mmol: reading.mmol,
              flag: reading.flag,
              kind: 'cgm',
              meal: null,
            }),
          })),
        );
        results.forEach((result, i) => {
          if (result.outcome === 'conflict') throw new Conflict(mine[i]!.reading.index);
          outcomes.set(mine[i]!.reading.index, result);
        });
      }
      const stored = checked.filter((c) => outcomes.get(c.reading.index)?.outcome === 'stored');
      if (stored.length > 0) {
        await appendEvaluation(client, {
          receivedAt: new Date().toISOString(),
          readings: stored.map(
            ({ reading, measuredAt }): EvaluationReading => ({
              patientId: reading.patientId,
              deviceId: null,
              seq: null,
              source: 'import',
              measuredAt: measuredAt.toISOString(),
              mmol: reading.mmol,
              flag: reading.flag,
              kind: 'cgm',
              meal: null,
            }),
          ),
        });
      }
    });
  } catch (err) {
    if (err instanceof Conflict)
      throw new FhirError(409, {
        type: 'conflict',
        code: 'IDENTIFIER_CONFLICT',
        message: 'a different reading was already submitted under this identifier; nothing of this Bundle was stored',
        expression: `Bundle.entry[${err.index}].resource.identifier`,
      });
    throw err;
  }

  const live: BoardReading[] = [];
  for (const { reading, measuredAt } of checked) {
    if (outcomes.get(reading.index)?.outcome !== 'stored') continue;
    live.push({
      patientId: reading.patientId,
      teamId: access.get(reading.patientId)!.teamId,
      measuredAt: measuredAt.toISOString(),
      mmol: reading.mmol,
      flag: reading.flag,
      kind: 'cgm',
      source: 'import',
    });
  }
  if (live.length > 0) deps.live.publishReadings(live);
  for (const [patientId, reach] of access) {
    const mine = checked.filter((c) => c.reading.patientId === patientId).map((c) => outcomes.get(c.reading.index)!);
    await recordFhirAccess(db, caller, 'fhir.submit', reach, origin, {
      stored: mine.filter((o) => o.outcome === 'stored').length,
      duplicates: mine.filter((o) => o.outcome === 'duplicate').length,
    });
  }

  const byIndex = new Map(readings.map((r) => [r.index, r]));
  const responses = parsed.entries.map((entry): NonNullable<BundleEntry['response']> => {
    if (entry.kind === 'not-stored')
      return {
        status: '200 OK',
        outcome: operationOutcome({
          severity: 'information',
          type: 'informational',
          code: 'NOT_STORED',
          message: 'received and not stored: Glucoboard keeps CGM sensor readings and computes summaries from them',
        }),
      };
    const result = outcomes.get(entry.reading.index) as Exclude<ImportOutcome, { outcome: 'conflict' }>;
    const location = `Observation/${readingObservationId(byIndex.get(entry.reading.index)!.patientId, result.measuredAt, result.key)}`;
    // The IG's server-side deduplication: a resend is 200 with the existing reading's location.
    return result.outcome === 'stored' ? { status: '201 Created', location } : { status: '200 OK', location };
  });
  return transactionResponse(responses);
}
