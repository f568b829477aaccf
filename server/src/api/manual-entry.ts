import {
  appendEvaluation,
  claimManualEntryKey,
  inTransaction,
  recordManualEntryAnswer,
  storeManualReading,
} from '@glucoboard/core/storage';
import { manualReadingBody, validateReadingsBatch } from '@glucoboard/core/wire';
import { patientAccess } from '../access/policy.ts';
import { recordPatientEvent } from '../audit/trail.ts';
import { ApiError } from '../http/errors.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import type { ApiDependencies } from './context.ts';

const REJECTION_STATUS = 400;

/**
 * `Idempotency-Key` (optional, 1-200 visible ASCII characters, e.g. a UUID per form): a form sent
 * twice (double click, a retry after a lost answer) stores one reading.
 */
function idempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,200}$/.test(header))
    throw new ApiError(
      400,
      'VALIDATION_FAILED',
      'Idempotency-Key must be 1-200 visible ASCII characters',
      'Idempotency-Key',
    );
  return header;
}

/**
 * Manual entry (SPEC: municipal home-care nurses read the meter and type the value in): members
 * of the patient's responsible team. The same rules as a device reading (range, LO/HI, not in the
 * future, not older than 90 days), the same codes, and the same path to rule evaluation.
 */
export function manualEntryRoutes(deps: ApiDependencies): RouteSpec[] {
  const db = deps.db.pool;
  return [
    route({
      method: 'post',
      path: '/api/patients/:id/readings',
      tag: 'readings',
      summary: "Enter a value read from the patient's meter (members of the responsible team)",
      signedIn: true,
      params: { id: 'uuid' },
      body: manualReadingBody,
      responses: {
        200: {
          description: 'The same entry sent again with the same Idempotency-Key: nothing stored, the first answer',
        },
        201: { description: 'Stored, and shown live on the team board' },
        422: { description: 'IDEMPOTENCY_KEY_REUSED: the key came with a different entry' },
        400: { description: 'OUT_OF_RANGE, FUTURE_TIMESTAMP, TOO_OLD or VALIDATION_FAILED' },
      },
      async handle({ req, user, params, body, origin }) {
        const access = await patientAccess(db, user, params.id!, 'care');
        // The device rules, so a typed value is held to exactly what a meter's would be.
        const verdict = validateReadingsBatch(
          {
            readings: [
              {
                seq: 0,
                measuredAt: body.measuredAt,
                mmol: body.mmol,
                flag: body.flag ?? null,
                meal: body.meal ?? null,
              },
            ],
          },
          { deviceKind: 'bgm', now: Date.now() },
        );
        if (!verdict.ok) throw new ApiError(REJECTION_STATUS, verdict.code, verdict.message);
        const rejection = verdict.rejected[0];
        if (rejection) throw new ApiError(REJECTION_STATUS, rejection.code, rejection.message, rejection.field);
        const reading = verdict.accepted[0]!.reading;

        const key = idempotencyKey(req.get('idempotency-key'));
        const request = JSON.stringify({ patientId: access.patientId, body });
        const outcome = await inTransaction(db, async (client) => {
          if (key !== undefined) {
            // The key row first: a concurrent resend waits on it here, then sees it committed.
            const claim = await claimManualEntryKey(client, { userId: user.userId, key, request });
            if (!claim.claimed) {
              if (claim.request !== request)
                throw new ApiError(
                  422,
                  'IDEMPOTENCY_KEY_REUSED',
                  'this Idempotency-Key was used for a different entry',
                  'Idempotency-Key',
                );
              return { replayed: true as const, answer: claim.answer };
            }
          }
          const { receivedAt } = await storeManualReading(client, {
            patientId: access.patientId,
            measuredAt: reading.measuredAt,
            mmol: reading.mmol,
            flag: reading.flag,
            meal: reading.meal,
            note: body.note ?? null,
            enteredBy: user.userId,
          });
          await appendEvaluation(client, {
            receivedAt: receivedAt.toISOString(),
            readings: [
              {
                patientId: access.patientId,
                deviceId: null,
                seq: null,
                source: 'manual',
                measuredAt: reading.measuredAt.toISOString(),
                mmol: reading.mmol,
                flag: reading.flag,
                kind: 'bgm',
                meal: reading.meal,
              },
            ],
          });
          const answer = {
            reading: {
              patientId: access.patientId,
              teamId: access.teamId,
              measuredAt: reading.measuredAt.toISOString(),
              mmol: reading.mmol,
              flag: reading.flag,
              kind: 'bgm' as const,
              source: 'manual' as const,
              meal: reading.meal,
              note: body.note ?? null,
              seq: null,
              enteredBy: user.userId,
              receivedAt: receivedAt.toISOString(),
            },
          };
          if (key !== undefined) await recordManualEntryAnswer(client, { userId: user.userId, key }, answer);
          return { replayed: false as const, answer };
        });
        // A replay is the same answer with 200: stored once, shown once.
        if (outcome.replayed) return { status: 200, body: outcome.answer };
        await recordPatientEvent(db, 'readings.manual_entry', user.userId, access, origin);
        const {
          meal: _meal,
          note: _note,
          seq: _seq,
          enteredBy: _by,
          receivedAt: _at,
          ...live
        } = outcome.answer.reading;
        deps.live.publishReadings([live]);
        return { status: 201, body: outcome.answer };
      },
    }),
  ];
}
