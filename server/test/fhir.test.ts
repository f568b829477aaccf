import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirErrors } from '../../core/test/wire/fhir-validator.ts';
import { ADMIN, buildTeam, startTestSystem, type TeamFixture } from './support/clinic.ts';
import type { Client } from './support/http.ts';
import { Sockets } from './support/sockets.ts';

/**
 * FHIR R4 at /fhir/r4 against a real server (docs/fhir.md): an outside client with client
 * credentials pages through a patient's readings, reads a 14-day CGM summary, and submits a
 * bundle that is stored once and shows on the board. Every resource answered is validated.
 */

let env: Awaited<ReturnType<typeof startTestSystem>>;
let sys: Client;
let A: TeamFixture;
let B: TeamFixture;
let cgmPatient: string;
let cgm: { deviceId: string; token: string };
const sockets = new Sockets(() => env.system.url);
const MIN = 60_000;
const DAY = 86_400_000;
const LOINC = 'http://loinc.org';

const url = (path: string) => `${env.system.url}${path}`;

async function fhir(path: string, token?: string, init: RequestInit = {}) {
  const response = await fetch(url(path), {
    ...init,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) },
  });
  const text = await response.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const body: any = text ? JSON.parse(text) : undefined;
  return { status: response.status, body, headers: response.headers };
}

async function makeClient(admin: Client, teamId: string, access: 'read' | 'read-write' = 'read') {
  const made = await admin.post(`/api/teams/${teamId}/api-clients`, { name: `records system ${randomUUID()}`, access });
  expect(made.status).toBe(201);
  return made.body as { clientId: string; clientSecret: string };
}

async function tokenFor(client: { clientId: string; clientSecret: string }, scope?: string) {
  const basic = Buffer.from(
    `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`,
  ).toString('base64');
  const answer = await fetch(url('/fhir/r4/oauth/token'), {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }),
  });
  expect(answer.status).toBe(200);
  return ((await answer.json()) as { access_token: string }).access_token;
}

/** Device readings through the gateway (the same ingest as every meter), in batches of 500. */
async function upload(device: { deviceId: string; token: string }, readings: unknown[]) {
  for (let i = 0; i < readings.length; i += 500) {
    const answer = await fetch(url('/api/devices/readings'), {
      method: 'POST',
      headers: { authorization: `Device ${device.deviceId}:${device.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ readings: readings.slice(i, i + 500) }),
    });
    const ack = (await answer.json()) as { ok: boolean; accepted: number };
    expect(ack.ok).toBe(true);
  }
}

const expectValid = (resource: unknown) => expect(fhirErrors(resource)).toEqual([]);
const outcomeCode = (body: {
  resourceType: string;
  issue: Array<{ details: { coding: Array<{ code: string }> } }>;
}) => {
  expect(body.resourceType).toBe('OperationOutcome');
  expectValid(body);
  return body.issue[0]!.details.coding[0]!.code;
};

/** 14 days of 5-minute CGM readings, from just inside the window to 10 minutes ago, with a LO and a HI. */
const now0 = Date.now();
const fortnight = (() => {
  const out: Array<{ seq: number; measuredAt: string; mmol: number | null; flag?: 'LO' | 'HI'; kind: 'cgm' }> = [];
  let seq = 0;
  for (let t = now0 - 14 * DAY + 30 * MIN; t <= now0 - 10 * MIN; t += 5 * MIN) {
    out.push({
      seq: seq++,
      measuredAt: new Date(t).toISOString(),
      mmol: Math.round((5 + 4 * Math.sin(t / 3_600_000)) * 10) / 10,
      kind: 'cgm',
    });
  }
  out.push({ seq: seq++, measuredAt: new Date(now0 - 7 * MIN).toISOString(), mmol: null, flag: 'LO', kind: 'cgm' });
  out.push({ seq: seq++, measuredAt: new Date(now0 - 6 * MIN).toISOString(), mmol: null, flag: 'HI', kind: 'cgm' });
  return out;
})();

beforeAll(async () => {
  env = await startTestSystem('postgres');
  sys = await env.client().login(ADMIN.email, ADMIN.password);
  A = await buildTeam(sys, env.system.url, 'Fhir A');
  B = await buildTeam(sys, env.system.url, 'Fhir B');
  const patient = await A.admin.post('/api/patients', {
    name: 'CGM wearer',
    teamId: A.teamId,
    identityNumber: '19121212-1212',
  });
  cgmPatient = patient.body.id;
  const device = await A.admin.post('/api/devices', { serial: 'fhir-a-cgm', kind: 'cgm', patientId: cgmPatient });
  cgm = { deviceId: device.body.deviceId, token: device.body.token };
  await upload(cgm, fortnight);
  // A manual entry: the FHIR Observation names who typed it in.
  const manual = await A.nurse.post(`/api/patients/${cgmPatient}/readings`, {
    measuredAt: new Date(now0 - 3 * MIN).toISOString(),
    mmol: 6.1,
  });
  expect(manual.status).toBe(201);
}, 120_000);
afterAll(async () => {
  sockets.closeAll();
  await env?.stop();
});

describe('metadata', () => {
  it('is a valid CapabilityStatement in application/fhir+json that instantiates the cgm-data-receiver', async () => {
    const answer = await fhir('/fhir/r4/metadata');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expectValid(answer.body);
    expect(answer.body.instantiates).toEqual(['http://hl7.org/fhir/uv/cgm/CapabilityStatement/cgm-data-receiver']);
    expect(answer.body.rest[0].security.extension[0].extension[0].valueUri).toBe(url('/fhir/r4/oauth/token'));
  });
});

describe('API clients and OAuth 2 client credentials', () => {
  it('a team admin makes one (secret shown once, not listed); a nurse or another team may not', async () => {
    const made = await makeClient(A.admin, A.teamId);
    expect(made.clientSecret.length).toBeGreaterThanOrEqual(32);
    const list = await A.admin.get(`/api/teams/${A.teamId}/api-clients`);
    expect(list.body.apiClients).toContainEqual(
      expect.objectContaining({ clientId: made.clientId, access: 'read', revokedAt: null }),
    );
    expect(list.text).not.toContain(made.clientSecret);
    const stored = await env.system.db.pool.query('select secret_hash from api_clients where id = $1', [made.clientId]);
    expect(stored.rows[0].secret_hash).toMatch(/^\$argon2id\$/);
    expect((await A.nurse.post(`/api/teams/${A.teamId}/api-clients`, { name: 'x' })).status).toBe(403);
    for (const path of [
      `/api/teams/${A.teamId}/api-clients`,
      `/api/teams/${A.teamId}/api-clients/${made.clientId}/revoke`,
    ]) {
      const answer = path.endsWith('revoke') ? await B.admin.post(path, {}) : await B.admin.get(path);
      expect([path, answer.status, answer.body.error.code]).toEqual([path, 404, 'NOT_FOUND']);
    }
    expect((await B.admin.post(`/api/teams/${A.teamId}/api-clients`, { name: 'x' })).status).toBe(404);
  });

  it('gives a short-lived bearer token by HTTP Basic or client_secret_post, stored as a hash', async () => {
    const made = await makeClient(A.admin, A.teamId);
    const answer = await fetch(url('/fhir/r4/oauth/token'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: made.clientId,
        client_secret: made.clientSecret,
      }),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const body = (await answer.json()) as Record<string, unknown>;
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'system/Patient.rs system/Observation.rs',
    });
    const rows = await env.system.db.pool.query('select id from api_client_tokens where client_id = $1', [
      made.clientId,
    ]);
    expect(rows.rows.map((r) => r.id)).not.toContain(body['access_token']);
    expect(rows.rows[0].id).toMatch(/^[0-9a-f]{64}$/);
    expect(await tokenFor(made)).toEqual(expect.any(String));
  });

  it('refuses a wrong secret, another grant type and a scope beyond the client, in RFC 6749 terms', async () => {
    const made = await makeClient(A.admin, A.teamId);
    const post = (body: Record<string, string>) =>
      fetch(url('/fhir/r4/oauth/token'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body),
      }).then(async (r) => [r.status, ((await r.json()) as { error: string }).error]);
    expect(await post({ grant_type: 'client_credentials', client_id: made.clientId, client_secret: 'wrong' })).toEqual([
      401,
      'invalid_client',
    ]);
    expect(await post({ grant_type: 'password', client_id: made.clientId, client_secret: made.clientSecret })).toEqual([
      400,
      'unsupported_grant_type',
    ]);
    expect(
      await post({
        grant_type: 'client_credentials',
        client_id: made.clientId,
        client_secret: made.clientSecret,
        scope: 'system/Observation.c',
      }),
    ).toEqual([400, 'invalid_scope']);
    expect(await post({ grant_type: 'client_credentials' })).toEqual([401, 'invalid_client']);
  });

  it('a revoked client and its tokens stop working at once', async () => {
    const made = await makeClient(A.admin, A.teamId);
    const token = await tokenFor(made);
    expect((await fhir(`/fhir/r4/Patient/${A.patientId}`, token)).status).toBe(200);
    const revoked = await A.admin.post(`/api/teams/${A.teamId}/api-clients/${made.clientId}/revoke`, {});
    expect(revoked.body.apiClient.revokedAt).not.toBeNull();
    const after = await fhir(`/fhir/r4/Patient/${A.patientId}`, token);
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toMatch(/^Bearer .*invalid_token/);
    expect(outcomeCode(after.body)).toBe('UNAUTHENTICATED');
  });
});

describe('Patient and team isolation', () => {
  it("reads the team's patient with the personnummer's OID; another team's patient is 404 as an OperationOutcome", async () => {
    const token = await tokenFor(await makeClient(A.admin, A.teamId));
    const patient = await fhir(`/fhir/r4/Patient/${cgmPatient}`, token);
    expect(patient.status).toBe(200);
    expectValid(patient.body);
    expect(patient.body).toMatchObject({
      resourceType: 'Patient',
      id: cgmPatient,
      identifier: [{ system: 'urn:oid:1.2.752.129.2.1.3.1', value: '191212121212' }],
      name: [{ text: 'CGM wearer' }],
    });
    for (const path of [
      `/fhir/r4/Patient/${B.patientId}`,
      `/fhir/r4/Observation?patient=${B.patientId}`,
      `/fhir/r4/Observation?patient=${B.patientId}&code=107931-8`,
      `/fhir/r4/Patient/${randomUUID()}`,
    ]) {
      const answer = await fhir(path, token);
      expect([path, answer.status]).toEqual([path, 404]);
      expect(outcomeCode(answer.body)).toBe('NOT_FOUND');
    }
  });

  it('answers a signed-in member by session cookie, and nobody without credentials', async () => {
    const bySession = await fhir(`/fhir/r4/Patient/${cgmPatient}`, undefined, { headers: { cookie: A.nurse.cookie! } });
    expect(bySession.status).toBe(200);
    const byOtherTeam = await fhir(`/fhir/r4/Patient/${cgmPatient}`, undefined, {
      headers: { cookie: B.nurse.cookie! },
    });
    expect(byOtherTeam.status).toBe(404);
    const anonymous = await fhir(`/fhir/r4/Patient/${cgmPatient}`);
    expect(anonymous.status).toBe(401);
    expect(outcomeCode(anonymous.body)).toBe('UNAUTHENTICATED');
  });
});

describe('Observation search with paging', () => {
  it('pages through every reading newest first by the next links, each page a valid searchset', async () => {
    const token = await tokenFor(await makeClient(A.admin, A.teamId));
    const from = new Date(now0 - 2 * 3_600_000).toISOString();
    let next: string | undefined = `/fhir/r4/Observation?patient=${cgmPatient}&date=ge${from}&_count=7`;
    const seen: Array<{ id: string; at: string }> = [];
    let pages = 0;
    while (next) {
      const page = await fhir(next.replace(env.system.url, ''), token);
      expect(page.status).toBe(200);
      expectValid(page.body);
      expect(page.body.type).toBe('searchset');
      for (const entry of page.body.entry) {
        expect(entry.search.mode).toBe('match');
        expect(entry.fullUrl).toBe(url(`/fhir/r4/Observation/${entry.resource.id}`));
        seen.push({ id: entry.resource.id, at: entry.resource.effectiveDateTime });
      }
      next = page.body.link.find((l: { relation: string }) => l.relation === 'next')?.url;
      pages++;
    }
    const expected = fortnight.filter((r) => r.measuredAt >= from).length + 1; // + the manual entry
    expect(seen).toHaveLength(expected);
    expect(new Set(seen.map((s) => s.id)).size).toBe(expected);
    expect(pages).toBe(Math.ceil(expected / 7));
    expect([...seen].sort((a, b) => b.at.localeCompare(a.at)).map((s) => s.at)).toEqual(seen.map((s) => s.at));
  });

  it('shows CGM readings in the IG profile, LO/HI with data absent reasons, and the manual entry with its performer', async () => {
    const token = await tokenFor(await makeClient(A.admin, A.teamId));
    const page = await fhir(`/fhir/r4/Observation?patient=${cgmPatient}&_count=4`, token);
    const [manual, hi, lo, valued] = page.body.entry.map((e: { resource: unknown }) => e.resource);
    expect(manual.code.coding).toEqual([{ system: LOINC, code: '14743-9' }]);
    expect(manual.performer[0]).toMatchObject({ type: 'Practitioner', display: 'nurse of Fhir A' });
    expect(hi.dataAbsentReason.coding[0].code).toBe('positive-infinity');
    expect(hi.valueQuantity).toBeUndefined();
    expect(lo.dataAbsentReason.coding[0].code).toBe('negative-infinity');
    expect(valued.meta.profile).toEqual([
      'http://hl7.org/fhir/uv/cgm/StructureDefinition/cgm-sensor-reading-moles-per-volume',
    ]);
    expect(valued.valueQuantity).toMatchObject({ system: 'http://unitsofmeasure.org', code: 'mmol/L' });
  });

  it('filters by code and date bounds (le/lt/gt), and refuses an unknown code with an OperationOutcome', async () => {
    const token = await tokenFor(await makeClient(A.admin, A.teamId));
    const bgm = await fhir(`/fhir/r4/Observation?patient=${cgmPatient}&code=${LOINC}|14743-9`, token);
    expect(bgm.body.entry).toHaveLength(1);
    const at = fortnight[100]!.measuredAt;
    const one = await fhir(
      `/fhir/r4/Observation?patient=${cgmPatient}&code=105272-9&date=le${at}&date=gt${fortnight[99]!.measuredAt}`,
      token,
    );
    expect(
      one.body.entry.map((e: { resource: { effectiveDateTime: string } }) => e.resource.effectiveDateTime),
    ).toEqual([at]);
    const bad = await fhir(`/fhir/r4/Observation?patient=${cgmPatient}&code=2339-0`, token);
    expect(bad.status).toBe(400);
    expect(outcomeCode(bad.body)).toBe('UNKNOWN_CODE');
  });

  it('audits every read with the API client as the actor', async () => {
    const made = await makeClient(A.admin, A.teamId);
    const token = await tokenFor(made);
    await fhir(`/fhir/r4/Observation?patient=${cgmPatient}&_count=1`, token);
    const events = await env.system.db.pool.query(
      `select action, patient_id, team_id from audit_events where actor_kind = 'api_client' and actor_api_client = $1 order by id`,
      [made.clientId],
    );
    expect(events.rows).toEqual([
      { action: 'api_client.token', patient_id: null, team_id: A.teamId },
      { action: 'fhir.observations.read', patient_id: cgmPatient, team_id: A.teamId },
    ]);
  });
});

describe('the 14-day CGM summary', () => {
  it('is the IG summary with its six members, valid, with the numbers of GET /api/patients/:id/summary', async () => {
    const token = await tokenFor(await makeClient(A.admin, A.teamId));
    const answer = await fhir(`/fhir/r4/Observation?patient=${cgmPatient}&code=${LOINC}|107931-8`, token);
    expect(answer.status).toBe(200);
    expectValid(answer.body);
    const [summary, ...members] = answer.body.entry.map((e: { resource: unknown }) => e.resource);
    expect(answer.body.entry.map((e: { search: { mode: string } }) => e.search.mode)).toEqual([
      'match',
      ...members.map(() => 'include'),
    ]);
    expect(summary.code.coding).toEqual([{ system: LOINC, code: '107931-8' }]);
    expect(summary.hasMember.map((r: { reference: string }) => r.reference)).toEqual(
      members.map((m: { id: string }) => `Observation/${m.id}`),
    );
    const days = (Date.parse(summary.effectivePeriod.end) - Date.parse(summary.effectivePeriod.start)) / DAY;
    expect(days).toBe(14);

    const api = (await A.nurse.get(`/api/patients/${cgmPatient}/summary?days=14`)).body;
    const value = (code: string) =>
      members.find((m: { code: { coding: Array<{ code: string }> } }) => m.code.coding[0]!.code === code);
    const round2 = (v: number) => Math.round(v * 100) / 100;
    expect(value('105273-7').valueQuantity.value).toBe(round2(api.mean));
    expect(value('97506-0').valueQuantity.value).toBe(round2(api.gmi));
    expect(value('104638-2').valueQuantity.value).toBe(round2(api.cv));
    expect(value('104637-4').valueQuantity.value).toBe(round2(api.dataSufficiency));
    expect(value('104636-6').valueQuantity).toMatchObject({ value: 14, code: 'd' });
    expect(value('106793-3').component.map((c: { valueQuantity: { value: number } }) => c.valueQuantity.value)).toEqual(
      ['veryLow', 'low', 'inRange', 'high', 'veryHigh'].map((r) => round2(api.ranges[r])),
    );
  });

  it('for a patient without CGM readings answers an empty searchset that says why', async () => {
    const token = await tokenFor(await makeClient(A.admin, A.teamId));
    const answer = await fhir(`/fhir/r4/Observation?patient=${A.patientId}&code=107931-8`, token);
    expect(answer.status).toBe(200);
    expectValid(answer.body);
    expect(answer.body.entry).toHaveLength(1);
    expect(answer.body.entry[0].search.mode).toBe('outcome');
    expect(outcomeCode(answer.body.entry[0].resource)).toBe('NO_CGM_DATA');
  });
});

describe('$submit-cgm-bundle', () => {
  const sensorEntry = (identifier: string, at: number, mmol: number, patient = cgmPatient) => ({
    fullUrl: `urn:uuid:${randomUUID()}`,
    resource: {
      resourceType: 'Observation',
      status: 'final',
      identifier: [{ system: 'https://cgm-app.example/readings', value: identifier }],
      category: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] },
      ],
      code: { coding: [{ system: LOINC, code: '105272-9' }] },
      subject: { reference: `Patient/${patient}` },
      effectiveDateTime: new Date(at).toISOString(),
      valueQuantity: { value: mmol, unit: 'mmol/l', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
    },
    request: { method: 'POST', url: 'Observation' },
  });
  const bundle = (...entry: unknown[]) => ({
    resourceType: 'Bundle',
    type: 'transaction',
    timestamp: new Date().toISOString(),
    entry,
  });
  const submit = (token: string, body: unknown) =>
    fhir('/fhir/r4/$submit-cgm-bundle', token, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(body),
    });
  const importedCount = async () =>
    Number(
      (
        await env.system.db.pool.query(`select count(*) from readings where source = 'import' and patient_id = $1`, [
          cgmPatient,
        ])
      ).rows[0].count,
    );

  it('stores a bundle once, answers in order, and the readings reach the board and the alert rules', async () => {
    const token = await tokenFor(await makeClient(A.admin, A.teamId, 'read-write'));
    const board = await sockets.board(A.nurse.cookie!);
    const t = Date.now();
    const summaryEntry = {
      fullUrl: `urn:uuid:${randomUUID()}`,
      resource: {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: LOINC, code: '107931-8' }] },
        subject: { reference: `Patient/${cgmPatient}` },
        effectivePeriod: { start: '2025-01-01', end: '2025-01-14' },
      },
      request: { method: 'POST', url: 'Observation' },
    };
    const input = bundle(sensorEntry('s-1', t - 2 * MIN, 7.2), summaryEntry, sensorEntry('s-2', t - MIN, 2.4));
    expectValid(input);
    const before = await importedCount();
    const first = await submit(token, input);
    expect(first.status).toBe(200);
    expectValid(first.body);
    expect(first.body.type).toBe('transaction-response');
    expect(first.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual([
      '201 Created',
      '200 OK',
      '201 Created',
    ]);
    expect(await importedCount()).toBe(before + 2);

    // The same bundle again stores nothing new and points at the same readings.
    const again = await submit(token, input);
    expect(again.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual([
      '200 OK',
      '200 OK',
      '200 OK',
    ]);
    expect(again.body.entry[0].response.location).toBe(first.body.entry[0].response.location);
    expect(await importedCount()).toBe(before + 2);

    // Read back as the client's own identifiers, at the locations answered.
    const read = await fhir(
      `/fhir/r4/Observation?patient=${cgmPatient}&date=ge${new Date(t - 3 * MIN).toISOString()}&code=105272-9`,
      token,
    );
    const mine = read.body.entry.filter(
      (e: { resource: { identifier?: Array<{ system: string }> } }) =>
        e.resource.identifier?.[0]?.system === 'https://cgm-app.example/readings',
    );
    expect(mine.map((e: { resource: { id: string } }) => `Observation/${e.resource.id}`).sort()).toEqual(
      [first.body.entry[0].response.location, first.body.entry[2].response.location].sort(),
    );

    await expect
      .poll(
        () => (board.heard.get('reading') ?? []).filter((r) => (r as { source: string }).source === 'import').length,
        { timeout: 10_000 },
      )
      .toBe(2);
    // 2.4 mmol/L is below the urgent low: the workers open an alert, as for a meter's reading.
    await expect
      .poll(
        async () =>
          (await A.nurse.get('/api/alerts?state=open')).body.alerts.filter(
            (a: { patientId: string; rule: string }) => a.patientId === cgmPatient && a.rule === 'urgent_low',
          ).length,
        { timeout: 20_000 },
      )
      .toBe(1);
  });

  it('refuses a different reading under a used identifier, storing nothing of that bundle', async () => {
    const token = await tokenFor(await makeClient(A.admin, A.teamId, 'read-write'));
    const t = Date.now();
    expect((await submit(token, bundle(sensorEntry('c-1', t - 4 * MIN, 6.0)))).status).toBe(200);
    const before = await importedCount();
    const answer = await submit(
      token,
      bundle(sensorEntry('c-2', t - 3 * MIN, 6.1), sensorEntry('c-1', t - 4 * MIN, 9.9)),
    );
    expect(answer.status).toBe(409);
    expect(outcomeCode(answer.body)).toBe('IDENTIFIER_CONFLICT');
    expect(answer.body.issue[0].expression).toEqual(['Bundle.entry[1].resource.identifier']);
    expect(await importedCount()).toBe(before);
  });

  it("refuses bad entries precisely, a read-only client, and another team's patient", async () => {
    const writer = await tokenFor(await makeClient(A.admin, A.teamId, 'read-write'));
    const tooHigh = await submit(writer, bundle(sensorEntry('b-1', Date.now() - MIN, 40)));
    expect(tooHigh.status).toBe(422);
    expect(outcomeCode(tooHigh.body)).toBe('OUT_OF_RANGE');
    expect(tooHigh.body.issue[0].expression).toEqual(['Bundle.entry[0].resource.valueQuantity.value']);
    const batch = await submit(writer, { ...bundle(sensorEntry('b-2', Date.now(), 5)), type: 'batch' });
    expect([batch.status, outcomeCode(batch.body)]).toEqual([400, 'NOT_A_TRANSACTION']);
    const other = await submit(writer, bundle(sensorEntry('b-3', Date.now() - MIN, 5, B.patientId)));
    expect([other.status, outcomeCode(other.body)]).toEqual([404, 'NOT_FOUND']);

    const reader = await tokenFor(await makeClient(A.admin, A.teamId, 'read'));
    const readOnly = await submit(reader, bundle(sensorEntry('b-4', Date.now() - MIN, 5)));
    expect([readOnly.status, outcomeCode(readOnly.body)]).toEqual([403, 'INSUFFICIENT_SCOPE']);
    const notJson = await fhir('/fhir/r4/$submit-cgm-bundle', writer, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: '{ not json',
    });
    expect([notJson.status, outcomeCode(notJson.body)]).toEqual([400, 'INVALID_JSON']);
  });
});
