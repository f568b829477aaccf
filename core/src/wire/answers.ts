import { z } from 'zod';
import { TEAM_ROLES } from '../domain/care-team.ts';
import { METER_FLAGS, READING_KINDS, READING_SOURCES } from '../domain/reading.ts';

/**
 * Answers of the People API about accounts, teams, device tokens and readings: one schema each,
 * for the route's OpenAPI document and, as types, for the web app (which must not re-declare
 * them). Fields may be added, never renamed (SPEC section 4).
 */

/** An account as its owner or an administrator sees it (POST /api/users, GET /api/users?email). */
export const userView = z.object({ id: z.string(), email: z.string(), name: z.string() });
export type UserView = z.infer<typeof userView>;

/** The signed-in user and her teams (POST /api/auth/login, GET /api/me). */
export const meView = userView.extend({
  sysadmin: z.boolean(),
  teams: z.array(z.object({ id: z.string(), name: z.string(), role: z.enum(TEAM_ROLES) })),
});
export type MeView = z.infer<typeof meView>;

/** A team with the caller's role in it; null: a sysadmin who is no member (GET /api/teams). */
export const teamView = z.object({
  id: z.string(),
  name: z.string(),
  escalationTeamId: z.string().nullable(),
  escalateAfterMinutes: z.number(),
  role: z.enum(TEAM_ROLES).nullable(),
});
export type TeamView = z.infer<typeof teamView>;

/** A device's new token (POST /api/devices, POST /api/devices/:id/rotate). */
export const deviceCredentialsView = z.object({
  deviceId: z.string(),
  token: z.string().describe('Shown once: only its hash is stored'),
});
export type DeviceCredentialsView = z.infer<typeof deviceCredentialsView>;

/** One reading of a patient (GET /api/patients/:id/readings). */
export const readingView = z.object({
  measuredAt: z.string(),
  mmol: z.number().nullable(),
  flag: z.enum(METER_FLAGS).nullable(),
  kind: z.enum(READING_KINDS),
  source: z.enum(READING_SOURCES),
  seq: z.number().nullable(),
});
export type ReadingView = z.infer<typeof readingView>;
