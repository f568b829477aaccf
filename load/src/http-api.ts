/**
 * HTTP API load (SPEC section 4, "People"): what the clinicians' boards ask for, and manual entry.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 -e EMAIL=... -e PASSWORD=... load/src/http-api.ts
 *
 * Settings (`-e NAME=value`): BASE_URL (default http://127.0.0.1:3000), EMAIL and PASSWORD (a user
 * of at least one team; required), RATE (requests per second, default 20), DURATION (default 1m),
 * VUS (pre-allocated VUs, default 10), MAX_VUS (default 100).
 *
 * Each iteration is one request, picked by WEIGHTS, at a constant arrival rate (an open model: a
 * slow server does not slow the offered load down, so its latency is not hidden).
 *
 * Session: setup() signs in once and hands the session cookie to every VU, which puts it in its
 * own cookie jar on its first iteration; all VUs then act as that one user, as a board left open in
 * many tabs does. Signing in per VU is not done on purpose: sign-in is limited to 30 attempts per
 * address per 15 minutes (LOGIN_RATE in server/src/api/auth.ts), so more than 30 VUs, or a rerun
 * soon after, would be refused with 429; and each sign-in runs a deliberately slow password hash,
 * which would weigh on the very latencies this script measures.
 */
import { check, fail } from 'k6';
import { randomBytes } from 'k6/crypto';
import http from 'k6/http';
import type { RefinedResponse, ResponseType } from 'k6/http';
import type { Options } from 'k6/options';
import { baseUrlOf, durationMs, nextGlucose, numberSetting, originOf, pickWeighted, uuidFromBytes } from './common.ts';

const BASE_URL = baseUrlOf(__ENV.BASE_URL);
const ORIGIN = originOf(BASE_URL);
const SESSION_COOKIE = 'glucoboard_session';
const RATE = numberSetting('RATE', __ENV.RATE, 20, 1);
const DURATION_S = Math.ceil(durationMs('DURATION', __ENV.DURATION, '1m') / 1000);
const VUS = numberSetting('VUS', __ENV.VUS, 10, 1);
const MAX_VUS = Math.max(VUS, numberSetting('MAX_VUS', __ENV.MAX_VUS, 100, 1));

/** Share of each request in the mix: a board mostly reads; a home-care nurse now and then types a value in. */
const WEIGHTS = {
  patients: 30,
  alerts: 25,
  readings: 20,
  summary: 15,
  manual_entry: 10,
} as const;
type Endpoint = keyof typeof WEIGHTS;
const READ_ONLY_WEIGHTS: Record<Exclude<Endpoint, 'manual_entry'>, number> = {
  patients: WEIGHTS.patients,
  alerts: WEIGHTS.alerts,
  readings: WEIGHTS.readings,
  summary: WEIGHTS.summary,
};

export const options: Options = {
  scenarios: {
    board: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: `${DURATION_S}s`,
      preAllocatedVUs: VUS,
      maxVUs: MAX_VUS,
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    'http_req_duration{kind:read}': ['p(95)<300'],
    'http_req_duration{kind:write}': ['p(99)<500'],
    'http_req_duration{endpoint:patients}': ['p(95)<300'],
    'http_req_duration{endpoint:alerts}': ['p(95)<300'],
    'http_req_duration{endpoint:readings}': ['p(95)<300'],
    'http_req_duration{endpoint:summary}': ['p(95)<300'],
    'http_req_duration{endpoint:manual_entry}': ['p(99)<500'],
  },
  setupTimeout: '60s',
};

interface Team {
  id: string;
  name: string;
}

interface Patient {
  id: string;
  teamId: string;
  /** Manual entry is for the responsible team (or a sysadmin); granted teams only read. */
  writable: boolean;
}

interface SetupData {
  cookie: string;
  email: string;
  teams: Team[];
  patients: Patient[];
}

const readParams = (endpoint: Endpoint, name: string) => ({
  headers: { Accept: 'application/json' },
  tags: { endpoint, kind: 'read', name },
});

export function setup(): SetupData {
  const email = __ENV.EMAIL;
  const password = __ENV.PASSWORD;
  if (!email || !password) fail('set EMAIL and PASSWORD (-e EMAIL=... -e PASSWORD=...) to a user of at least one team');

  const login = http.post(`${BASE_URL}/api/auth/login`, JSON.stringify({ email, password }), {
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', Origin: ORIGIN },
    tags: { endpoint: 'login', name: 'POST /api/auth/login' },
  });
  if (login.status !== 200) fail(`sign-in as ${email} answered ${login.status}: ${String(login.body)}`);
  const cookie = login.cookies[SESSION_COOKIE]?.[0]?.value;
  if (!cookie) fail(`sign-in answered 200 without the ${SESSION_COOKIE} cookie`);
  // The setup VU's jar now holds the cookie, so the requests below are signed in.

  const teamsRes = http.get(`${BASE_URL}/api/teams`, {
    headers: { Accept: 'application/json' },
    tags: { endpoint: 'teams' },
  });
  if (teamsRes.status !== 200) fail(`GET /api/teams answered ${teamsRes.status}`);
  const teams = (teamsRes.json('teams') as unknown as Team[]).map(({ id, name }) => ({ id, name }));
  if (teams.length === 0) fail(`${email} belongs to no team: there is no board to load`);

  const patients = new Map<string, Patient>();
  for (const team of teams) {
    const res = http.get(`${BASE_URL}/api/patients?teamId=${team.id}`, {
      headers: { Accept: 'application/json' },
      tags: { endpoint: 'setup_patients' },
    });
    if (res.status !== 200) fail(`GET /api/patients?teamId=${team.id} answered ${res.status}`);
    for (const p of res.json('patients') as unknown as { id: string; teamId: string; access: string }[]) {
      const writable = p.access === 'responsible' || p.access === 'sysadmin';
      const known = patients.get(p.id);
      patients.set(p.id, { id: p.id, teamId: p.teamId, writable: writable || (known?.writable ?? false) });
    }
  }
  if (patients.size === 0) fail(`the teams of ${email} have no patients to read`);
  const all = [...patients.values()];
  const writable = all.filter((p) => p.writable).length;
  console.info(
    `signed in as ${email}: ${teams.length} team(s), ${all.length} patient(s), ${writable} open to manual entry` +
      (writable === 0 ? ' (so no manual entries will be sent)' : ''),
  );
  return { cookie, email, teams, patients: all };
}

let sessionInJar = false;
let lastEntered = 7.5;

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const isArrayAt = (res: RefinedResponse<ResponseType | undefined>, field: string) => {
  try {
    return Array.isArray(res.json(field));
  } catch {
    return false;
  }
};

export default function (data: SetupData): void {
  if (!sessionInJar) {
    http.cookieJar().set(BASE_URL, SESSION_COOKIE, data.cookie);
    sessionInJar = true;
  }
  const writable = data.patients.filter((p) => p.writable);
  const endpoint: Endpoint =
    writable.length > 0 ? pickWeighted(WEIGHTS, Math.random()) : pickWeighted(READ_ONLY_WEIGHTS, Math.random());

  switch (endpoint) {
    case 'patients': {
      const team = pick(data.teams);
      const res = http.get(
        `${BASE_URL}/api/patients?teamId=${team.id}`,
        readParams(endpoint, 'GET /api/patients?teamId='),
      );
      check(res, {
        'patients: 200': (r) => r.status === 200,
        'patients: a list': (r) => isArrayAt(r, 'patients'),
      });
      break;
    }
    case 'alerts': {
      // The board's default view (open and acknowledged) and, less often, open only.
      const query = Math.random() < 0.7 ? '' : '?state=open';
      const res = http.get(`${BASE_URL}/api/alerts${query}`, readParams(endpoint, 'GET /api/alerts'));
      check(res, {
        'alerts: 200': (r) => r.status === 200,
        'alerts: a list': (r) => isArrayAt(r, 'alerts'),
      });
      break;
    }
    case 'readings': {
      const patient = pick(data.patients);
      const res = http.get(
        `${BASE_URL}/api/patients/${patient.id}/readings`,
        readParams(endpoint, 'GET /api/patients/:id/readings'),
      );
      check(res, {
        'readings: 200': (r) => r.status === 200,
        'readings: a list': (r) => isArrayAt(r, 'readings'),
      });
      break;
    }
    case 'summary': {
      const patient = pick(data.patients);
      const res = http.get(
        `${BASE_URL}/api/patients/${patient.id}/summary?days=14`,
        readParams(endpoint, 'GET /api/patients/:id/summary'),
      );
      check(res, { 'summary: 200': (r) => r.status === 200 });
      break;
    }
    case 'manual_entry': {
      const patient = pick(writable);
      lastEntered = nextGlucose(lastEntered, Math.random);
      const body = {
        // Read off the meter a little while ago, as a home-care nurse does.
        measuredAt: new Date(Date.now() - Math.floor(Math.random() * 600) * 1000).toISOString(),
        mmol: lastEntered,
        meal: pick(['before', 'after', null] as const),
        note: 'k6 load test',
      };
      const res = http.post(`${BASE_URL}/api/patients/${patient.id}/readings`, JSON.stringify(body), {
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          // The server refuses cookie-authenticated writes whose Origin is another site.
          Origin: ORIGIN,
          'Idempotency-Key': uuidFromBytes(new Uint8Array(randomBytes(16))),
        },
        tags: { endpoint, kind: 'write', name: 'POST /api/patients/:id/readings' },
      });
      check(res, { 'manual entry: 201': (r) => r.status === 201 });
      break;
    }
  }
}
