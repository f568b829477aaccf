import { z } from 'zod';
import { hashSecret, newSecret } from '@glucoboard/core/platform';
import { apiClientsOfTeam, createApiClient, revokeApiClient, type ApiClientRecord } from '@glucoboard/core/storage';
import { teamAccess } from '../access/policy.ts';
import { recordAudit, userActor } from '../audit/trail.ts';
import { notFound } from '../http/errors.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import type { ApiDependencies } from './context.ts';

const newApiClientBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  /** read: Patient and Observation reads (a records system, a warehouse); read-write: also $submit-cgm-bundle (a CGM app). */
  access: z.enum(['read', 'read-write']).default('read'),
});

const apiClientView = z.object({
  clientId: z.string(),
  teamId: z.string(),
  name: z.string(),
  access: z.enum(['read', 'read-write']),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
});

const present = (c: ApiClientRecord) => ({
  clientId: c.id,
  teamId: c.teamId,
  name: c.name,
  access: c.access,
  createdAt: c.createdAt.toISOString(),
  revokedAt: c.revokedAt?.toISOString() ?? null,
  lastUsedAt: c.lastUsedAt?.toISOString() ?? null,
});

/**
 * A team's API clients (docs/fhir.md): systems that read the team's patients' glucose data over
 * FHIR with OAuth 2 client credentials. Team admins make them (the secret is shown once), list
 * and revoke them; revoking ends the client's tokens at once.
 */
export function apiClientRoutes(deps: ApiDependencies): RouteSpec[] {
  const db = deps.db.pool;
  return [
    route({
      method: 'post',
      path: '/api/teams/:teamId/api-clients',
      tag: 'fhir',
      summary: "Make an API client for the team's FHIR data (team admins); its secret is shown once",
      signedIn: true,
      params: { teamId: 'uuid' },
      body: newApiClientBody,
      responses: {
        201: {
          description: 'The client, with client_id and the secret (shown this once)',
          schema: apiClientView.extend({ clientSecret: z.string() }),
        },
      },
      async handle({ user, params, body, origin }) {
        await teamAccess(db, user, params.teamId!, 'admin');
        const secret = newSecret();
        const client = await createApiClient(db, {
          teamId: params.teamId!,
          name: body.name,
          access: body.access,
          secretHash: await hashSecret(secret),
          createdBy: user.userId,
        });
        await recordAudit(db, {
          action: 'api_client.create',
          actor: userActor(user.userId),
          teamId: client.teamId,
          origin,
          detail: { clientId: client.id, access: client.access },
        });
        return { status: 201, body: { ...present(client), clientSecret: secret } };
      },
    }),
    route({
      method: 'get',
      path: '/api/teams/:teamId/api-clients',
      tag: 'fhir',
      summary: "The team's API clients, revoked ones included (team admins)",
      signedIn: true,
      params: { teamId: 'uuid' },
      responses: { 200: { description: 'API clients', schema: z.object({ apiClients: z.array(apiClientView) }) } },
      async handle({ user, params }) {
        await teamAccess(db, user, params.teamId!, 'admin');
        return { status: 200, body: { apiClients: (await apiClientsOfTeam(db, params.teamId!)).map(present) } };
      },
    }),
    route({
      method: 'post',
      path: '/api/teams/:teamId/api-clients/:clientId/revoke',
      tag: 'fhir',
      summary: 'Revoke an API client: its tokens stop working at once (team admins)',
      signedIn: true,
      params: { teamId: 'uuid', clientId: 'uuid' },
      responses: { 200: { description: 'Revoked', schema: z.object({ apiClient: apiClientView }) } },
      async handle({ user, params, origin }) {
        await teamAccess(db, user, params.teamId!, 'admin');
        const client = await revokeApiClient(db, params.teamId!, params.clientId!, user.userId);
        if (!client) throw notFound('API client');
        await recordAudit(db, {
          action: 'api_client.revoke',
          actor: userActor(user.userId),
          teamId: client.teamId,
          origin,
          detail: { clientId: client.id },
        });
        return { status: 200, body: { apiClient: present(client) } };
      },
    }),
  ];
}
