import { appendEvaluation, storeManualReading } from '@glucoboard/core/storage';
import { manualReadingBody, validateReadingsBatch } from '@glucoboard/core/wire';
import { patientAccess } from '../access/policy.ts';
import { recordPatientEvent } from '../audit/trail.ts';
import { ApiError } from '../http/errors.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import type { ApiDependencies } from './context.ts';

const REJECTION_STATUS = 400;

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
        201: { description: 'Stored, and shown live on the team board' },
        400: { description: 'OUT_OF_RANGE, FUTURE_TIMESTAMP, TOO_OLD or VALIDATION_FAILED' },
      },
      async handle({ user, params, body, origin }) {
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

        const client = await db.connect();
        let receivedAt: Date;
        try {
          await client.query('BEGIN');
          ({ receivedAt } = await storeManualReading(client, {
            patientId: access.patientId,
            measuredAt: reading.measuredAt,
            mmol: reading.mmol,
            flag: reading.flag,
            meal: reading.meal,
            note: body.note ?? null,
            enteredBy: user.userId,
          }));
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
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        } finally {
          client.release();
        }
        await recordPatientEvent(db, 'readings.manual_entry', user.userId, access, origin);
        const live = {
          patientId: access.patientId,
          teamId: access.teamId,
          measuredAt: reading.measuredAt.toISOString(),
          mmol: reading.mmol,
          flag: reading.flag,
          kind: 'bgm' as const,
          source: 'manual' as const,
        };
        deps.live.publishReadings([live]);
        return {
          status: 201,
          body: {
            reading: {
              ...live,
              meal: reading.meal,
              note: body.note ?? null,
              seq: null,
              enteredBy: user.userId,
              receivedAt,
            },
          },
        };
      },
    }),
  ];
}
