import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startTestSystem } from './support/clinic.ts';
import type { Client } from './support/http.ts';

// SPEC section 4, "People": these shapes are a public contract. Fields may be added, none removed.
let env: Awaited<ReturnType<typeof startTestSystem>>;
let admin: Client;

beforeAll(async () => {
  env = await startTestSystem('postgres');
  admin = await env.client().login(ADMIN.email, ADMIN.password);
});
afterAll(() => env?.stop());

describe('the People API as SPEC section 4 writes it', () => {
  it('serves every call of the table with the fixed shapes', async () => {
    const team = await admin.post('/api/teams', { name: 'Diabetesmottagningen', escalateAfterMinutes: 15 });
    expect(team.status).toBe(201);
    expect(team.body).toMatchObject({ id: expect.any(String), name: 'Diabetesmottagningen' });

    const teams = await admin.get('/api/teams');
    expect(teams.status).toBe(200);
    expect(teams.body.teams).toEqual([expect.objectContaining({ id: team.body.id, name: 'Diabetesmottagningen' })]);

    const user = await admin.post('/api/users', {
      email: 'Nurse@Example.se',
      name: 'Nurse',
      password: 'long enough password',
    });
    expect(user.status).toBe(201);
    expect(user.body).toEqual({ id: expect.any(String), email: 'nurse@example.se', name: 'Nurse' });

    const member = await admin.post(`/api/teams/${team.body.id}/members`, { userId: user.body.id, role: 'nurse' });
    expect(member.status).toBe(201);

    const patient = await admin.post('/api/patients', {
      name: 'Test Patient',
      teamId: team.body.id,
      identityNumber: '191212121212',
      labels: ['säbo'],
    });
    expect(patient.status).toBe(201);
    expect(patient.body).toMatchObject({
      id: expect.any(String),
      name: 'Test Patient',
      teamId: team.body.id,
      labels: ['säbo'],
    });

    const list = await admin.get(`/api/patients?teamId=${team.body.id}`);
    expect(list.status).toBe(200);
    expect(list.body.patients).toEqual([
      expect.objectContaining({ id: patient.body.id, name: 'Test Patient', teamId: team.body.id, labels: ['säbo'] }),
    ]);

    const thresholds = await admin.request('PUT', `/api/patients/${patient.body.id}/thresholds`, {
      urgentLow: 3.5,
      low: 4.5,
      noDataMinutes: 120,
    });
    expect(thresholds.status).toBe(200);
    expect(thresholds.body.effective).toMatchObject({
      urgentLow: 3.5,
      low: 4.5,
      high: 13.9,
      urgentHigh: 20,
      noDataMinutes: 120,
    });

    const device = await admin.post('/api/devices', { serial: 'METER-0001', kind: 'bgm', patientId: patient.body.id });
    expect(device.status).toBe(201);
    expect(device.body).toMatchObject({ deviceId: 'METER-0001', token: expect.stringMatching(/^[\w-]{20,}$/) });
    const stored = await env.system.db.pool.query('select token_hash from devices where serial = $1', ['METER-0001']);
    expect(stored.rows[0].token_hash).toMatch(/^\$argon2id\$/);
    expect(stored.rows[0].token_hash).not.toContain(device.body.token);

    const readings = await admin.get(
      `/api/patients/${patient.body.id}/readings?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z`,
    );
    expect(readings.status).toBe(200);
    expect(readings.body).toEqual({ readings: [] });
  });

  it('answers bad input with { error: { code, message, field } } and the right status', async () => {
    const missing = await admin.post('/api/teams', {});
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'name', message: expect.any(String) });
    const badRole = await admin.post('/api/patients', { name: 'X', teamId: 'not-a-uuid' });
    expect(badRole.status).toBe(400);
    expect(badRole.body.error.field).toBe('teamId');
    const badJson = await fetch(`${env.system.url}/api/teams`, {
      method: 'POST',
      headers: { cookie: admin.cookie!, 'content-type': 'application/json' },
      body: '{"name": ',
    });
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { error: { code: string } }).error.code).toBe('INVALID_JSON');
    const wrongOrder = await admin.post('/api/teams', { name: 'Order' });
    const patient = await admin.post('/api/patients', { name: 'P', teamId: wrongOrder.body.id });
    const upsideDown = await admin.request('PUT', `/api/patients/${patient.body.id}/thresholds`, { low: 15 });
    expect(upsideDown.status).toBe(400);
    expect(upsideDown.body.error.code).toBe('VALIDATION_FAILED');
    const duplicate = await admin.post('/api/teams', { name: 'order' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe('TEAM_EXISTS');
    const unknownPatient = await admin.get('/api/patients/00000000-0000-4000-8000-000000000000');
    expect(unknownPatient.status).toBe(404);
    expect((await admin.get('/api/patients/not-a-uuid')).status).toBe(404);
  });

  it('publishes an OpenAPI document of every route, built from the same schemas', async () => {
    const doc = (await env.client().get('/api/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    for (const [path, method] of [
      ['/api/auth/login', 'post'],
      ['/api/auth/logout', 'post'],
      ['/api/me', 'get'],
      ['/api/teams', 'get'],
      ['/api/teams', 'post'],
      ['/api/users', 'post'],
      ['/api/teams/{teamId}/members', 'post'],
      ['/api/patients', 'post'],
      ['/api/patients', 'get'],
      ['/api/patients/{id}/thresholds', 'put'],
      ['/api/devices', 'post'],
      ['/api/patients/{id}/readings', 'get'],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    const newPatient = doc.paths['/api/patients'].post.requestBody.content['application/json'].schema;
    expect(newPatient.required).toEqual(expect.arrayContaining(['name', 'teamId']));
    expect(Object.keys(newPatient.properties)).toEqual(
      expect.arrayContaining(['name', 'teamId', 'identityNumber', 'labels']),
    );
    const member = doc.paths['/api/teams/{teamId}/members'].post.requestBody.content['application/json'].schema;
    expect(member.properties.role.enum).toEqual(['nurse', 'physician', 'admin']);
  });
});
