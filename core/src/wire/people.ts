import { z } from 'zod';
import { ALERT_RULES } from '../domain/alert-rules.ts';
import { TEAM_ROLES } from '../domain/care-team.ts';
import { parseIdentityNumber } from '../domain/identity-number.ts';
import { targetProfileView } from './summary.ts';

/**
 * Request bodies and queries of the People API (SPEC section 4, HTTP JSON under /api). The names
 * in the SPEC's table are a public contract: fields may be added here, never renamed.
 *
 * Objects are strict: an unknown key (a misspelt field) is an error rather than silently ignored.
 * The same schemas produce the OpenAPI document with `z.toJSONSchema(schema, { io: 'input' })`, so
 * values are normalised with checks that keep the input's JSON Schema (trim, toLowerCase,
 * overwrite) and transforms only produce Dates from date-times.
 *
 * Messages of our own checks are phrases that start in lower case ("must ...", "is ..."):
 * `validationError` puts the field's name in front of them.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

// --- Fields -------------------------------------------------------------------------------------

const id = z.uuid();

const displayName = z.string().trim().min(1).max(120);

/** Emails are compared lower-cased everywhere (the users table has a unique index on lower(email)). */
const email = z.string().trim().toLowerCase().max(254).check(z.email());

const identityNumber = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    const parsed = parseIdentityNumber(value);
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: `is not a valid personnummer or samordningsnummer: ${parsed.reason}` });
    }
  })
  .overwrite((value) => {
    const parsed = parseIdentityNumber(value);
    return parsed.ok ? parsed.value : value;
  })
  .meta({
    description:
      'Swedish personnummer or samordningsnummer, 10 or 12 digits with an optional - or + before the last four; stored as 12 digits (YYYYMMDDNNNN)',
    examples: ['19121212-1212'],
  });

/** One label: trimmed, Unicode NFC, lower-cased; 'säbo' and ' SÄBO ' are the same label. */
const label = z.string().trim().normalize('NFC').min(1).max(40).toLowerCase();

const labels = z
  .array(label)
  .overwrite((values) => [...new Set(values)])
  .max(20)
  .describe(
    'At most 20 labels (e.g. "säbo", "hemsjukvård"), each 1-40 characters; stored lower-cased, duplicates removed',
  );

const targetProfile = targetProfileView;

/** A threshold in mmol/L: 1.0-30.0 with at most one decimal, like a meter shows it. */
const mmol = z.number().min(1).max(30).multipleOf(0.1);

const noDataMinutes = z.int().min(5).max(43_200); // up to 30 days

const note = z.string().trim().max(2000);

/** RFC 3339 / ISO-8601 with seconds optional and a UTC offset ('Z' or ±hh:mm): never a local time. */
const isoDateTime = z.iso.datetime({ offset: true });
const dateTime = isoDateTime.transform((value) => new Date(value));

// --- Authentication and people -----------------------------------------------------------------

export const loginBody = z
  .strictObject({
    email: z.string().trim().toLowerCase().min(1).max(254),
    password: z.string().min(1).max(256),
  })
  .meta({ id: 'Login', description: 'Sign in with a local account (POST /api/auth/login)' });
export type Login = z.infer<typeof loginBody>;

const escalation = {
  escalationTeamId: id
    .nullable()
    .optional()
    .describe('Team that gets critical alerts nobody acknowledged in time; null for none'),
  escalateAfterMinutes: z
    .int()
    .min(1)
    .max(1440)
    .optional()
    .describe('Minutes before an unacknowledged critical alert escalates (default 15)'),
};

export const newTeamBody = z
  .strictObject({ name: displayName, ...escalation })
  .meta({ id: 'NewTeam', description: 'A care team (POST /api/teams)' });
export type NewTeam = z.infer<typeof newTeamBody>;

export const teamUpdateBody = z
  .strictObject({ name: displayName.optional(), ...escalation })
  .meta({ id: 'TeamUpdate', description: "Changes to a team's name or escalation (PATCH /api/teams/:teamId)" });
export type TeamUpdate = z.infer<typeof teamUpdateBody>;

export const newUserBody = z
  .strictObject({
    email,
    name: displayName,
    password: z.string().min(12).max(256),
    sysadmin: z.boolean().optional(),
  })
  .meta({ id: 'NewUser', description: 'A local user account (POST /api/users)' });
export type NewUser = z.infer<typeof newUserBody>;

export { TEAM_ROLES, type TeamRole } from '../domain/care-team.ts';

export const newMembershipBody = z
  .strictObject({ userId: id, role: z.enum(TEAM_ROLES) })
  .meta({ id: 'NewMembership', description: 'A user joins a team in a role (POST /api/teams/:teamId/members)' });
export type NewMembership = z.infer<typeof newMembershipBody>;

// --- Patients -----------------------------------------------------------------------------------

const patientFields = {
  identityNumber: identityNumber.nullable().optional(),
  labels: labels.optional(),
  responsiblePhysicianId: id.nullable().optional().describe('A physician of the responsible team; null for none'),
  targetProfile: targetProfile.optional(),
};

export const newPatientBody = z
  .strictObject({ name: displayName, teamId: id.describe('The responsible team'), ...patientFields })
  .meta({ id: 'NewPatient', description: 'A patient of a responsible team (POST /api/patients)' });
export type NewPatient = z.infer<typeof newPatientBody>;

/** The responsible team is not changed here; null clears the identity number or the physician. */
export const patientUpdateBody = z
  .strictObject({ name: displayName.optional(), ...patientFields })
  .meta({ id: 'PatientUpdate', description: 'Changes to a patient (PATCH /api/patients/:id); absent fields stay' });
export type PatientUpdate = z.infer<typeof patientUpdateBody>;

/** A patient as the API answers it, and as `patient:updated` tells the boards. */
export const patientView = z.object({
  id: z.string(),
  name: z.string(),
  teamId: z.string(),
  labels: z.array(z.string()),
  identityNumber: z
    .string()
    .nullable()
    .describe('In full to members of the responsible team; masked for teams with read access or an escalation'),
  responsiblePhysicianId: z.string().nullable(),
  responsiblePhysicianName: z.string().nullable().describe("The responsible physician's name; null for none"),
  targetProfile: targetProfileView,
  lastReviewedAt: z.string().nullable(),
  lastReviewedBy: z.string().nullable(),
  access: z
    .enum(['responsible', 'granted', 'escalation', 'sysadmin'])
    .describe("How the caller reaches the patient; escalation: an escalated alert's target team, until it resolves"),
});
export type PatientView = z.infer<typeof patientView>;

const THRESHOLD_ORDER = ['urgentLow', 'low', 'high', 'urgentHigh'] as const;

/** The thresholds given (not null) must rise: urgentLow < low < high < urgentHigh. */
function thresholdsRise(value: Partial<Record<(typeof THRESHOLD_ORDER)[number], number | null>>, ctx: z.RefinementCtx) {
  let previous: { key: string; value: number } | undefined;
  for (const key of THRESHOLD_ORDER) {
    const v = value[key];
    if (typeof v !== 'number') continue;
    if (previous && v <= previous.value) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `must be greater than ${previous.key} (${previous.value}): thresholds rise urgentLow < low < high < urgentHigh`,
      });
      return;
    }
    previous = { key, value: v };
  }
}

const override = <T extends z.ZodType>(schema: T, description: string) =>
  schema.nullable().optional().describe(`${description}; null: back to the team default`);

export const thresholdsBody = z
  .strictObject({
    urgentLow: override(mmol, 'Critical below this (mmol/L)'),
    low: override(mmol, 'Warning below this (mmol/L)'),
    high: override(mmol, 'Warning above this (mmol/L)'),
    urgentHigh: override(mmol, 'Critical above this (mmol/L)'),
    noDataMinutes: override(noDataMinutes, 'Warning when no reading came for this long (minutes)'),
  })
  .superRefine(thresholdsRise)
  .meta({
    id: 'Thresholds',
    description:
      "A patient's thresholds overriding the team defaults (PUT /api/patients/:id/thresholds); absent fields stay",
  });
export type Thresholds = z.infer<typeof thresholdsBody>;

export const teamThresholdsBody = z
  .strictObject({
    urgentLow: mmol.optional().describe('Critical below this (mmol/L; default 3.0)'),
    low: mmol.optional().describe('Warning below this (mmol/L; default 4.0)'),
    high: mmol.optional().describe('Warning above this (mmol/L; default 13.9)'),
    urgentHigh: mmol.optional().describe('Critical above this (mmol/L; default 20.0)'),
    noDataMinutesBgm: noDataMinutes
      .optional()
      .describe('No-data warning for fingerstick meters (minutes; default 2880)'),
    noDataMinutesCgm: noDataMinutes.optional().describe('No-data warning for CGM sensors (minutes; default 30)'),
    rapidChangeMmolPerMin: z
      .number()
      .min(0.05)
      .max(1)
      .optional()
      .describe('CGM rate of change that raises rapid_change (mmol/L per minute; default 0.17)'),
  })
  .superRefine(thresholdsRise)
  .meta({ id: 'TeamThresholds', description: "A team's default thresholds (PUT /api/teams/:teamId/thresholds)" });
export type TeamThresholds = z.infer<typeof teamThresholdsBody>;

// --- Devices and alerts -------------------------------------------------------------------------

export const newDeviceBody = z
  .strictObject({
    serial: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9._:-]+$/, { error: "may hold only letters A-Z, digits, '.', '_', ':' and '-'" })
      .describe("The meter's serial number; it becomes the deviceId"),
    kind: z.enum(['bgm', 'cgm']),
    patientId: id,
  })
  .meta({ id: 'NewDevice', description: 'Pair a meter or sensor with a patient (POST /api/devices)' });
export type NewDevice = z.infer<typeof newDeviceBody>;

export const ACKNOWLEDGEMENT_ACTIONS = ['phone', 'video', 'visit', 'none'] as const;

export const acknowledgeBody = z
  .strictObject({
    note: note.nullable().optional(),
    action: z.enum(ACKNOWLEDGEMENT_ACTIONS).describe('What was done: phone call, video meeting, home visit, no action'),
  })
  .meta({ id: 'Acknowledgement', description: 'Take an alert, for the whole team (POST /api/alerts/:id/ack)' });
export type Acknowledgement = z.infer<typeof acknowledgeBody>;

export const resolveBody = z
  .strictObject({ note: note.nullable().optional() })
  .meta({ id: 'Resolution', description: 'Resolve an alert by hand (POST /api/alerts/:id/resolve)' });
export type Resolution = z.infer<typeof resolveBody>;

/** A rule silenced for one patient until a set time: recorded, visible to the team, expiring. */
export const snoozeBody = z
  .strictObject({
    rule: z.enum(ALERT_RULES),
    minutes: z
      .number()
      .int()
      .min(5)
      .max(7 * 24 * 60)
      .describe('How long, 5 minutes to 7 days; episodes are still recorded, only the paging stops'),
    note: note.nullable().optional(),
  })
  .meta({ id: 'Snooze', description: 'Snooze a rule for one patient (POST /api/patients/:id/snoozes)' });
export type SnoozeRequest = z.infer<typeof snoozeBody>;

export const accessGrantBody = z.strictObject({ teamId: id.describe('The team that gets read access') }).meta({
  id: 'AccessGrant',
  description: 'Grant another team read access to a patient (POST /api/patients/:id/access)',
});
export type AccessGrant = z.infer<typeof accessGrantBody>;

export const manualReadingBody = z
  .strictObject({
    measuredAt: isoDateTime.describe('When the meter measured it, ISO-8601 with offset'),
    mmol: z.number().nullable().describe('mmol/L as the meter shows it; null when it shows LO or HI'),
    flag: z.enum(['LO', 'HI']).nullable().optional(),
    meal: z.enum(['before', 'after']).nullable().optional(),
    note: z.string().trim().max(2000).nullable().optional(),
  })
  .meta({
    id: 'ManualReading',
    description: 'A value typed in from a meter display (POST /api/patients/:id/readings)',
  });
export type ManualReading = z.infer<typeof manualReadingBody>;

export const externalIdentityBody = z
  .strictObject({
    subject: z.string().trim().min(1).max(255).describe("The provider's subject (sub) for the person, e.g. an HSA-id"),
  })
  .meta({
    id: 'ExternalIdentity',
    description: 'Link an account to its OpenID Connect identity (PUT /api/users/:userId/identity)',
  });
export type ExternalIdentity = z.infer<typeof externalIdentityBody>;

// --- Queries ------------------------------------------------------------------------------------

export const READINGS_RANGE_DEFAULT_MS = DAY_MS;
export const READINGS_RANGE_MAX_MS = 90 * DAY_MS;

/**
 * `?from&to` of a readings query, resolved against a clock: `to` defaults to now and `from` to 24 h
 * before `to`; from < to, at most 90 days apart. The clock is a parameter for tests.
 */
export function readingsRangeQueryAt(now: () => Date) {
  return z
    .strictObject({
      from: isoDateTime.optional().describe('Start, inclusive (default: 24 h before to)'),
      to: isoDateTime.optional().describe('End, exclusive (default: now)'),
    })
    .transform((query, ctx) => {
      const to = query.to === undefined ? now() : new Date(query.to);
      const from = query.from === undefined ? new Date(to.getTime() - READINGS_RANGE_DEFAULT_MS) : new Date(query.from);
      const toText = query.to === undefined ? 'now' : 'to';
      if (from.getTime() >= to.getTime()) {
        ctx.addIssue({ code: 'custom', path: ['from'], input: query, message: `must be before ${toText}` });
        return z.NEVER;
      }
      if (to.getTime() - from.getTime() > READINGS_RANGE_MAX_MS) {
        ctx.addIssue({
          code: 'custom',
          path: ['from'],
          input: query,
          message: `must be at most 90 days before ${toText}`,
        });
        return z.NEVER;
      }
      return { from, to };
    });
}

export const readingsRangeQuery = readingsRangeQueryAt(() => new Date()).meta({
  id: 'ReadingsRange',
  description: 'Period of readings: [from, to), ISO-8601 date-times with offset, at most 90 days',
});
export type ReadingsRange = z.infer<typeof readingsRangeQuery>;

/** Query strings carry numbers as text. */
const queryLimit = z.coerce.number().int().min(1).max(1000);

/**
 * Filters of the audit trail: period [from, to) (default: from the beginning until now), newest
 * first, at most `limit` events. A plain object, so routes may pick from it.
 */
export const auditQuery = z
  .strictObject({
    patientId: id.optional(),
    userId: id.optional(),
    from: dateTime.default(() => new Date(0)).describe('Start, inclusive (default: the beginning)'),
    to: dateTime.default(() => new Date()).describe('End, exclusive (default: now)'),
    limit: queryLimit.default(200).describe('At most this many events (1-1000, default 200)'),
  })
  .meta({ id: 'AuditQuery', description: 'Audit events of a patient or a user in a period' });
export type AuditQuery = z.infer<typeof auditQuery>;

/** Filters of the alert list (GET /api/alerts). */
export const alertsQuery = z
  .strictObject({
    state: z
      .enum(['open', 'acknowledged', 'resolved', 'live', 'all'])
      .default('live')
      .describe("'live' is open or acknowledged (the default); 'all' includes resolved"),
    teamId: z.uuid().optional(),
    patientId: z.uuid().optional(),
    limit: queryLimit.default(200).describe('At most this many alerts (1-1000, default 200)'),
  })
  .meta({ id: 'AlertsQuery', description: 'Alerts by state, team and patient (GET /api/alerts)' });
export type AlertsQuery = z.infer<typeof alertsQuery>;

// --- Errors -------------------------------------------------------------------------------------

export interface ValidationFailure {
  code: 'VALIDATION_FAILED';
  message: string;
  /** Dotted path of the field at fault, e.g. `labels.2`; absent when the whole request is at fault. */
  field?: string;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list (JSON array)',
  object: 'an object',
  date: 'a date',
};

const ours = (message: string): boolean => /^[a-z]/.test(message);

const quoted = (values: readonly unknown[]): string => {
  const texts = values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v)));
  return texts.length <= 1 ? (texts[0] ?? '') : `${texts.slice(0, -1).join(', ')} or ${texts.at(-1)}`;
};

/** What is wrong, as the rest of a sentence whose subject is the field. */
function phrase(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const input = 'input' in issue ? issue.input : undefined;
      const wanted = TYPE_NAMES[issue.expected] ?? issue.expected;
      if (input === undefined && ('input' in issue || / received undefined$/.test(issue.message))) return 'is required';
      if (input === null || / received null$/.test(issue.message)) return `must be ${wanted}, not null`;
      return `must be ${wanted}`;
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'string') return min <= 1 ? 'must not be empty' : `must be at least ${min} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must hold at least ${min} items`;
      return issue.inclusive === false ? `must be greater than ${min}` : `must be at least ${min}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'string') return `must be at most ${max} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must hold at most ${max} items`;
      return issue.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
    }
    case 'invalid_format':
      switch (issue.format) {
        case 'email':
          return 'must be an email address';
        case 'uuid':
        case 'guid':
          return 'must be a UUID';
        case 'datetime':
          return 'must be an ISO-8601 date-time with a UTC offset, such as 2025-03-01T08:00:00+01:00';
        default:
          return ours(issue.message) ? issue.message : `is not a valid ${issue.format}`;
      }
    case 'not_multiple_of':
      if (Number(issue.divisor) === 0.1) return 'must have at most one decimal';
      if (Number(issue.divisor) === 1) return 'must be a whole number';
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${quoted(issue.values)}` : `must be one of ${quoted(issue.values)}`;
    case 'unrecognized_keys':
      return 'is not a field of this request';
    default:
      return ours(issue.message) ? issue.message : 'is not valid';
  }
}

/**
 * The first problem of a failed validation as `{ code, message, field }`: a plain English sentence
 * that names the field by its dotted path (`labels.2 must be at most 40 characters long.`).
 */
export function validationError(error: z.ZodError): ValidationFailure {
  const issue = error.issues[0];
  if (!issue) return { code: 'VALIDATION_FAILED', message: 'The request is not valid.' };
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') path.push(issue.keys[0] ?? '');
  const field = path.join('.');
  if (!field) {
    const message =
      issue.code === 'invalid_type' && issue.expected === 'object' ? 'must be a JSON object' : phrase(issue);
    return { code: 'VALIDATION_FAILED', message: `The request ${message}.` };
  }
  return { code: 'VALIDATION_FAILED', message: `${field} ${phrase(issue)}.`, field };
}

/** Validates `input`: the parsed value, or the first problem as a `validationError`. */
export function parseWith<T>(
  schema: z.ZodType<T>,
  input: unknown,
): { ok: true; value: T } | { ok: false; error: ValidationFailure } {
  const result = schema.safeParse(input, { reportInput: true });
  return result.success ? { ok: true, value: result.data } : { ok: false, error: validationError(result.error) };
}
