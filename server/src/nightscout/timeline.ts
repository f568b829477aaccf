import { z } from 'zod';
import { treatmentsOfPatient } from '@glucoboard/core/storage';
import { readingsRangeQuery } from '@glucoboard/core/wire';
import { patientAccess } from '../access/policy.ts';
import type { ApiDependencies } from '../api/context.ts';
import { recordPatientEvent } from '../audit/trail.ts';
import { route, type RouteSpec } from '../http/routes.ts';

/** The People API's view of what uploaders sent besides glucose: treatments, as timeline markers. */
export function treatmentRoutes(deps: ApiDependencies): RouteSpec[] {
  const db = deps.db.pool;
  return [
    route({
      method: 'get',
      path: '/api/patients/:id/treatments',
      tag: 'readings',
      summary: "The patient's treatments from Nightscout uploaders (carbs, insulin, notes) in [from, to), oldest first",
      signedIn: true,
      params: { id: 'uuid' },
      query: readingsRangeQuery,
      responses: {
        200: {
          description: 'Treatments, as markers for the timeline',
          schema: z.object({
            treatments: z.array(
              z.object({
                at: z.string(),
                eventType: z.string(),
                carbs: z.number().nullable(),
                insulin: z.number().nullable(),
                notes: z.string().nullable(),
                deviceId: z.string(),
              }),
            ),
          }),
        },
      },
      async handle({ user, params, query, origin }) {
        const access = await patientAccess(db, user, params.id!, 'read');
        const treatments = await treatmentsOfPatient(db, access.patientId, query.from, query.to);
        await recordPatientEvent(db, 'treatments.read', user.userId, access, origin, {
          from: query.from.toISOString(),
          to: query.to.toISOString(),
          count: treatments.length,
        });
        return { status: 200, body: { treatments } };
      },
    }),
  ];
}
