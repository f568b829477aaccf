import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  assignmentsOfSerial,
  createPatient,
  createTeam,
  createUser,
  deviceCredential,
  DeviceChangeRefused,
  lendDevice,
  listMigrations,
  migrate,
  noDataCandidates,
  openDatabase,
  pairDevice,
  readingsAcceptedFrom,
  replaceDevice,
} from '../../src/storage/index.ts';
import { BACKENDS, createTestDatabase, openTestDatabase, silentLog } from '../support/databases.ts';

// Migration 016 and the loan and replacement writes (docs/follow-up.md, "Meters"), on both backends.
const MIGRATIONS = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../src/storage/migrations');
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

describe.each(BACKENDS)('meter history on the %s backend', (backend) => {
  it('backfills every pairing made before migration 016 as an open assignment from its pairing time', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'glucoboard-016-'));
    cleanup.push(() => fs.rm(dir, { recursive: true, force: true }));
    for (const m of await listMigrations(MIGRATIONS))
      if (m.version < 16) await fs.copyFile(path.join(MIGRATIONS, m.file), path.join(dir, m.file));
    const target = await createTestDatabase(backend);
    const db = await openDatabase({ databaseUrl: target.databaseUrl, dataDir: target.dataDir, log: silentLog });
    cleanup.push(async () => {
      await db.close();
      await target.dispose();
    });
    await migrate(db, silentLog, dir);
    const team = await createTeam(db.pool, { name: 'Before 016' });
    const patient = await createPatient(db.pool, { teamId: team.id, name: 'Had a meter' });
    await db.pool.query(
      `insert into devices (serial, kind, patient_id, token_hash, created_at)
       values ('old-pairing', 'bgm', $1, 'x', '2026-01-05T08:00:00Z')`,
      [patient.id],
    );
    const sixteen = (await listMigrations(MIGRATIONS)).find((m) => m.version === 16)!;
    await fs.copyFile(path.join(MIGRATIONS, sixteen.file), path.join(dir, sixteen.file));
    expect((await migrate(db, silentLog, dir)).applied).toEqual([16]);

    const [open] = await assignmentsOfSerial(db.pool, 'old-pairing');
    expect(open).toMatchObject({
      patientId: patient.id,
      teamId: team.id,
      startReason: 'existing',
      startedBy: null,
      endedAt: null,
    });
    expect(open!.startedAt.toISOString()).toBe('2026-01-05T08:00:00.000Z');
    // A meter never lent keeps its whole memory.
    expect((await deviceCredential(db.pool, 'old-pairing'))?.acceptsReadingsFrom).toBeNull();
  });

  it('pairs, lends and replaces with one open assignment per meter and its whole history', async () => {
    const db = await openTestDatabase(backend);
    cleanup.push(() => db.dispose());
    const team = await createTeam(db.pool, { name: 'Loans' });
    const nurse = await createUser(db.pool, { email: 'n@example.se', name: 'Nurse', passwordHash: null });
    const first = await createPatient(db.pool, { teamId: team.id, name: 'First' });
    const second = await createPatient(db.pool, { teamId: team.id, name: 'Second' });
    await pairDevice(db.pool, { serial: 'm1', kind: 'bgm', patientId: first.id, tokenHash: 'h1', pairedBy: nurse.id });
    expect(await readingsAcceptedFrom(db.pool, 'm1')).toBeNull();

    const lent = await lendDevice(db.pool, { serial: 'm1', patientId: second.id, by: nurse.id, tokenHash: 'h2' });
    expect(lent.previousPatientId).toBe(first.id);
    const credential = await deviceCredential(db.pool, 'm1');
    expect(credential).toMatchObject({ patientId: second.id, tokenHash: 'h2' });
    expect(credential!.acceptsReadingsFrom?.getTime()).toBe(lent.startedAt.getTime());
    expect((await readingsAcceptedFrom(db.pool, 'm1'))?.getTime()).toBe(lent.startedAt.getTime());
    // The new patient's no-data clock starts at the loan, not at the meter's first pairing.
    const candidates = await noDataCandidates(db.pool);
    expect(candidates.find((c) => c.patientId === second.id)?.since.getTime()).toBe(lent.startedAt.getTime());
    expect(candidates.find((c) => c.patientId === first.id)).toBeUndefined();
    await expect(
      lendDevice(db.pool, { serial: 'm1', patientId: second.id, by: nurse.id, tokenHash: 'h' }),
    ).rejects.toEqual(new DeviceChangeRefused('same_patient'));

    const done = await replaceDevice(db.pool, {
      oldSerial: 'm1',
      newSerial: 'm2',
      reason: 'complaint',
      cause: 'strips read high',
      by: nurse.id,
      tokenHash: 'h3',
    });
    expect(done).toMatchObject({ patientId: second.id, teamId: team.id, kind: 'bgm' });
    expect(await deviceCredential(db.pool, 'm1')).toBeUndefined();
    expect(await deviceCredential(db.pool, 'm2')).toMatchObject({ patientId: second.id, acceptsReadingsFrom: null });
    for (const attempt of [
      () => lendDevice(db.pool, { serial: 'm1', patientId: first.id, by: nurse.id, tokenHash: 'h' }),
      () =>
        replaceDevice(db.pool, {
          oldSerial: 'm1',
          newSerial: 'm9',
          reason: 'defect',
          cause: null,
          by: nurse.id,
          tokenHash: 'h',
        }),
    ])
      await expect(attempt()).rejects.toEqual(new DeviceChangeRefused('retired'));
    await expect(
      replaceDevice(db.pool, {
        oldSerial: 'm2',
        newSerial: 'm1',
        reason: 'defect',
        cause: null,
        by: nurse.id,
        tokenHash: 'h',
      }),
    ).rejects.toEqual(new DeviceChangeRefused('serial_exists'));

    const history = await assignmentsOfSerial(db.pool, 'm1');
    expect(history.map((a) => [a.patientName, a.startReason, a.endReason])).toEqual([
      ['First', 'paired', 'loan'],
      ['Second', 'loan', 'retired'],
    ]);
    expect(history[1]!.replacedBy).toEqual({ deviceId: 'm2', reason: 'complaint', cause: 'strips read high' });
    expect(history[0]!.startedBy).toEqual({ id: nurse.id, name: 'Nurse' });
    const open = await db.pool.query<{ n: number }>(
      'select count(*)::int as n from device_assignments where ended_at is null',
    );
    expect(open.rows[0]!.n).toBe(1);
    // The table refuses a complaint without its cause, whatever the caller.
    await expect(
      db.pool.query(
        `insert into device_replacements (old_serial, new_serial, kind, reason, patient_id, team_id)
         values ('m2', 'm1', 'bgm', 'complaint', $1, $2)`,
        [second.id, team.id],
      ),
    ).rejects.toThrow(/check/);
  });
});

describe('two loans of one meter at once (PostgreSQL)', () => {
  it('are done one after the other: the meter ends with one patient and one open assignment', async () => {
    const db = await openTestDatabase('postgres');
    cleanup.push(() => db.dispose());
    const team = await createTeam(db.pool, { name: 'Race' });
    const admin = await createUser(db.pool, { email: 'a@example.se', name: 'Admin', passwordHash: null });
    // Eight at once: a loan whose transaction began before the one holding the lock must
    // still end that one's assignment after it began (once it failed the table's check).
    const [p0, ...borrowers] = await Promise.all(
      Array.from({ length: 9 }, (_, i) => createPatient(db.pool, { teamId: team.id, name: `Patient ${i}` })),
    );
    await pairDevice(db.pool, { serial: 'raced', kind: 'cgm', patientId: p0!.id, tokenHash: 'h0' });
    await Promise.all(
      borrowers.map((p) => lendDevice(db.pool, { serial: 'raced', patientId: p.id, by: admin.id, tokenHash: p.id })),
    );
    const history = await assignmentsOfSerial(db.pool, 'raced');
    expect(history).toHaveLength(9);
    for (const a of history) if (a.endedAt) expect(a.endedAt.getTime()).toBeGreaterThanOrEqual(a.startedAt.getTime());
    expect(history.filter((a) => a.endedAt === null)).toHaveLength(1);
    expect((await deviceCredential(db.pool, 'raced'))!.patientId).toBe(history.at(-1)!.patientId);
  });
});
