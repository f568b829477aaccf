import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, buildTeam, startTestSystem, type TeamFixture } from './support/clinic.ts';
import { nightscout, sha1 } from './support/nightscout.ts';
import { jugglucoBackfill, loopEntries } from './fixtures/nightscout/clients.ts';

// Issue 13: Juggluco back-fills up to 10,440 entries in one POST (uploader.cpp maxitems), Loop
// uploads 1,000 at a time with fractional dates; a body beyond the bound is a 413, not a crash.

describe('Nightscout API v1: large uploads', () => {
  let env: Awaited<ReturnType<typeof startTestSystem>>;
  let team: TeamFixture;
  const url = () => env.system.url;
  const readingCount = async (patientId: string) =>
    Number(
      (await env.system.db.pool.query('select count(*) as n from readings where patient_id = $1', [patientId])).rows[0]
        .n,
    );
  async function pairCgm(serial: string) {
    const patient = await team.admin.post('/api/patients', { name: `Patient ${serial}`, teamId: team.teamId });
    const paired = await team.admin.post('/api/devices', { serial, kind: 'cgm', patientId: patient.body.id });
    return { patientId: patient.body.id as string, headers: { 'api-secret': sha1(paired.body.token) } };
  }

  beforeAll(async () => {
    env = await startTestSystem('postgres');
    const sys = await env.client().login(ADMIN.email, ADMIN.password);
    team = await buildTeam(sys, env.system.url, 'Backfill ward');
  });

  afterAll(async () => {
    await env?.stop();
  });

  it('stores a 10,440-entry Juggluco back-fill, gzipped, exactly once', async () => {
    const phone = await pairCgm('juggluco-backfill');
    const backfill = jugglucoBackfill(10_440);
    const first = await nightscout(url(), '/api/v1/entries', { body: backfill, gzip: true, headers: phone.headers });
    expect(first.status).toBe(200);
    expect(first.body).toHaveLength(10_440);
    expect(first.body.map((d: { date: number }) => d.date)).toEqual(backfill.map((e) => e.date));
    expect(await readingCount(phone.patientId)).toBe(10_440);

    const resend = await nightscout(url(), '/api/v1/entries', { body: backfill, gzip: true, headers: phone.headers });
    expect(resend.status).toBe(200);
    expect(resend.body).toHaveLength(10_440);
    expect(await readingCount(phone.patientId)).toBe(10_440);
  }, 60_000);

  it("stores Loop's 1,000 fractional-date doubles, answering an array of the same length with _id", async () => {
    const loop = await pairCgm('loop-iphone');
    const entries = loopEntries(1000);
    const answer = await nightscout(url(), '/api/v1/entries', { body: entries, headers: loop.headers });
    expect(answer.status).toBe(200);
    expect(answer.body).toHaveLength(1000);
    for (const [i, doc] of (answer.body as Array<{ _id: string; date: number; sgv: number }>).entries()) {
      expect(doc._id).toMatch(/^[0-9a-f]{24}$/);
      expect(doc.date).toBe(entries[i]!.date);
      expect(doc.sgv).toBe(entries[i]!.sgv);
    }
    // Entries older than 90 days are kept as documents only; these are all within the last 84 h.
    expect(await readingCount(loop.patientId)).toBe(1000);
  });

  it('answers a body beyond the bound with 413 and bad JSON with 400, in Nightscout shape', async () => {
    const phone = await pairCgm('too-much');
    const huge = jugglucoBackfill(100_000); // about 20 MB of JSON once inflated
    const tooLarge = await nightscout(url(), '/api/v1/entries', { body: huge, gzip: true, headers: phone.headers });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toEqual({ status: 413, message: expect.stringContaining('16mb') });

    const broken = await fetch(`${url()}/api/v1/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...phone.headers },
      body: '[{"type":"sgv",',
    });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toEqual({ status: 400, message: 'the body is not valid JSON' });
    // The server is still there.
    expect((await nightscout(url(), '/api/v1/status.json')).status).toBe(200);
  }, 60_000);
});
