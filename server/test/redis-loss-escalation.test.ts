import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { producerConnection } from '@glucoboard/core/platform';
import { queuePrefix, QUEUES } from '@glucoboard/core/wire';
import { MAINTENANCE_SCHEDULE } from '@glucoboard/workers';
import { freePort } from '@glucoboard/core/test-support/processes';
import { throwawayRedis } from '@glucoboard/core/test-support/redis';
import { ADMIN, buildTeam, startTestSystem } from './support/clinic.ts';
import { sendReadings, Sockets } from './support/sockets.ts';

// Issue 18 item 3: a Redis restart that loses its data took the pending escalation (a delayed
// job) and the job schedulers with it, and nothing made them again. Now the database records when
// each escalation is due, and the workers' sweep escalates it and re-creates the schedulers.

const MINUTE = 60_000;
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => undefined);
});

interface AlertEvent {
  id: string;
  severity: string;
  escalated: boolean;
}
const heardOf = (heard: Map<string, unknown[]>, event: string, alertId?: string) =>
  ((heard.get(event) ?? []) as AlertEvent[]).filter((a) => alertId === undefined || a.id === alertId);

describe('escalation after Redis lost its data', () => {
  it('an unacknowledged critical alert still escalates once, on time, and the schedulers come back', async () => {
    const port = await freePort();
    let redisServer = await throwawayRedis(port);
    cleanup.push(() => redisServer.stop());
    // Workers in the server process; the sweep each second, so the test needs no fake clock.
    const env = await startTestSystem('postgres', {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      ESCALATION_SWEEP_SECONDS: '1',
    });
    cleanup.push(() => env.stop());
    const sockets = new Sockets(() => env.system.url);
    cleanup.push(async () => sockets.closeAll());
    const sys = await env.client().login(ADMIN.email, ADMIN.password);
    const tag = Math.random().toString(36).slice(2, 8);
    const home = await buildTeam(sys, env.system.url, `Home care ${tag}`);
    const onCall = await buildTeam(sys, env.system.url, `On call ${tag}`);
    const changed = await sys.request('PATCH', `/api/teams/${home.teamId}`, {
      escalationTeamId: onCall.teamId,
      escalateAfterMinutes: 1,
    });
    expect(changed.status).toBe(200);
    const homeBoard = await sockets.board(home.nurse.cookie!);
    const onCallBoard = await sockets.board(onCall.nurse.cookie!);

    // A hypo pages the home-care team; nobody acknowledges it.
    const meter = await sockets.meter(home);
    const now = Date.now();
    const lows = [2.9, 2.6].map((mmol, i) => ({
      seq: i + 1,
      measuredAt: new Date(now - (1 - i) * MINUTE).toISOString(),
      mmol,
    }));
    expect(await sendReadings(meter, { readings: lows })).toMatchObject({ ok: true, accepted: 2 });
    await expect.poll(() => heardOf(homeBoard.heard, 'alert').filter((a) => a.severity === 'critical').length).toBe(1);
    const alert = heardOf(homeBoard.heard, 'alert').find((a) => a.severity === 'critical')!;
    const db = env.system.db.pool;
    const due = (await db.query<{ due: Date }>('select escalation_due_at as due from alerts where id = $1', [alert.id]))
      .rows[0]!.due;
    expect(due.getTime()).toBeGreaterThan(Date.now() + 30_000);

    // Redis dies and comes back empty, well before the escalation is due: its delayed job is gone.
    await redisServer.stop();
    redisServer = await throwawayRedis(port);

    // The schedulers are back within a few sweeps, without a restart.
    const redis = env.system.redis;
    const prefix = queuePrefix(env.prefix);
    const noData = new Queue(QUEUES.noData, { connection: producerConnection(redis), prefix });
    const maintenance = new Queue(QUEUES.maintenance, { connection: producerConnection(redis), prefix });
    cleanup.push(
      () => noData.close(),
      () => maintenance.close(),
    );
    await expect
      .poll(async () => (await noData.getJobScheduler('scan-no-data').catch(() => undefined)) !== undefined, {
        timeout: 20_000,
        interval: 250,
      })
      .toBe(true);
    await expect
      .poll(
        async () =>
          (await maintenance.getJobSchedulers().catch(() => []))
            .map((s) => s.key)
            .sort()
            .join(),
        { timeout: 20_000, interval: 250 },
      )
      .toBe(Object.keys(MAINTENANCE_SCHEDULE).sort().join());

    // The escalation fires at its due time (the sweep runs each second), to the on-call board.
    await expect
      .poll(() => heardOf(onCallBoard.heard, 'alert:updated', alert.id).some((a) => a.escalated), {
        timeout: 2 * MINUTE,
        interval: 250,
      })
      .toBe(true);
    const row = (
      await db.query<{ escalated: boolean; escalated_at: Date }>(
        'select escalated, escalated_at from alerts where id = $1',
        [alert.id],
      )
    ).rows[0]!;
    expect(row.escalated).toBe(true);
    expect(row.escalated_at.getTime()).toBeGreaterThanOrEqual(due.getTime());
    expect(row.escalated_at.getTime() - due.getTime()).toBeLessThan(5000);

    // Once: later sweeps (and a job made again after the loss) find it escalated and say nothing.
    await new Promise((r) => setTimeout(r, 3000));
    const audits = await db.query(
      `select 1 from audit_events where action = 'alert.escalate' and detail->>'alertId' = $1`,
      [alert.id],
    );
    expect(audits.rowCount).toBe(1);
    expect(heardOf(onCallBoard.heard, 'alert:updated', alert.id)).toHaveLength(1);
    expect(heardOf(homeBoard.heard, 'alert:updated', alert.id).filter((a) => a.escalated)).toHaveLength(1);
  }, 180_000);
});
