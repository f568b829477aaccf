import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boardEventStream, producerConnection } from '@glucoboard/core/platform';
import { installationId } from '@glucoboard/core/storage';
import { queuePrefix, QUEUES } from '@glucoboard/core/wire';
import { TEST_REDIS_URL } from '@glucoboard/core/test-support/redis';
import { ADMIN, buildTeam, startTestSystem, type TeamFixture } from './support/clinic.ts';
import { sendReadings, Sockets } from './support/sockets.ts';

// Issue 11 item 15: two installations (two databases, two data directories) on one Redis with
// REDIS_PREFIX unset, as `npm start` twice on one machine. Neither may process the other's jobs
// nor hear the other's board events.

interface AlertEvent {
  patientId: string;
  teamId: string;
  severity: string;
}

let seq = 1;
const falling = () =>
  [6.2, 4.6, 3.4, 2.8, 2.4].map((mmol, i) => ({
    seq: seq++,
    measuredAt: new Date(Date.now() - (4 - i) * 60_000).toISOString(),
    mmol,
    flag: null,
  }));

describe('two installations sharing one Redis, without REDIS_PREFIX', () => {
  type Installation = Awaited<ReturnType<typeof startTestSystem>> & { team: TeamFixture; sockets: Sockets };
  const installations: Installation[] = [];

  beforeAll(async () => {
    for (const name of ['North', 'South']) {
      const env = await startTestSystem('postgres', {}, { installationPrefix: true });
      const sys = await env.client().login(ADMIN.email, ADMIN.password);
      const team = await buildTeam(sys, env.system.url, `Clinic ${name}`);
      installations.push(Object.assign(env, { team, sockets: new Sockets(() => env.system.url) }));
    }
  });
  afterAll(async () => {
    for (const i of installations) {
      i.sockets.closeAll();
      await i.stop();
    }
  });

  it('each gets a prefix of its own, derived from its database, and keeps it across a restart', async () => {
    const [north, south] = installations as [Installation, Installation];
    expect(north.system.redisPrefix).toMatch(/^glucoboard-[0-9a-f]{12}$/);
    expect(south.system.redisPrefix).toMatch(/^glucoboard-[0-9a-f]{12}$/);
    expect(north.system.redisPrefix).not.toBe(south.system.redisPrefix);
    const before = north.system.redisPrefix;
    // Another process on the same database (a restart, the workers, a second server) agrees.
    expect((await north.restart()).redisPrefix).toBe(before);
  });

  it("raises each one's alert on its own board only, from jobs in its own queue only", async () => {
    const [north, south] = installations as [Installation, Installation];
    const boards = await Promise.all(installations.map((i) => i.sockets.board(i.team.nurse.cookie!)));
    for (const i of installations) {
      const meter = await i.sockets.meter(i.team);
      expect(await sendReadings(meter, { readings: falling() })).toMatchObject({ ok: true, accepted: 5 });
    }
    for (const [n, i] of installations.entries()) {
      const critical = () =>
        ((boards[n]!.heard.get('alert') ?? []) as AlertEvent[]).filter((a) => a.severity === 'critical');
      await expect.poll(() => critical().length, { timeout: 20_000 }).toBe(1);
      expect(critical()[0]).toMatchObject({ patientId: i.team.patientId, teamId: i.team.teamId });
    }

    // Nothing of the other installation reached a board: no reading, no alert, no other event.
    for (const [n, other] of [south, north].entries()) {
      const heard = JSON.stringify([...boards[n]!.heard.values()]);
      expect(heard).not.toContain(other.team.patientId);
      expect(heard).not.toContain(other.team.teamId);
    }

    // Each installation's evaluation jobs (ids carry the database's installation id) sit in its own
    // queue, and its board events in its own stream.
    const redis = new Redis(TEST_REDIS_URL);
    try {
      for (const [n, i] of installations.entries()) {
        const other = installations[1 - n]!;
        const queue = new Queue(QUEUES.evaluation, {
          connection: producerConnection(i.system.redis),
          prefix: queuePrefix(i.system.redisPrefix),
        });
        try {
          const ids = (await queue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed'])).map((j) => j.id);
          expect(ids.length).toBeGreaterThan(0);
          const own = `outbox-${await installationId(i.system.db.pool)}-`;
          expect(ids.filter((id) => !id?.startsWith(own))).toEqual([]);
        } finally {
          await queue.close();
        }
        const stream = JSON.stringify(await redis.xrange(boardEventStream(i.system.redisPrefix), '-', '+'));
        expect(stream).toContain(i.team.teamId);
        expect(stream).not.toContain(other.team.teamId);
      }
    } finally {
      redis.disconnect();
    }
  });
});
