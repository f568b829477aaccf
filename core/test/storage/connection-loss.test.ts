import type pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction, migrate, openDatabase, type Database } from '../../src/storage/index.ts';
import { BACKENDS, createTestDatabase, type TestBackend } from '../support/databases.ts';

// Issue 18, item 1: a checked-out client whose connection is lost must fail its caller, not the
// process (pg emits 'error' on the client; pg-pool listens only while the client is idle).

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Cuts a checked-out client's connection: the PostgreSQL server terminates its backend (as a
 * restart or failover does); the embedded database, one backend behind a loopback socket, loses
 * the socket.
 */
async function cut(db: Database, client: pg.PoolClient, backend: TestBackend): Promise<void> {
  if (backend === 'postgres') {
    const pid = (client as unknown as { processID: number }).processID;
    await db.pool.query('select pg_terminate_backend($1)', [pid]);
  } else {
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  }
}

describe.each(BACKENDS)('a lost connection on the %s backend', (backend) => {
  let db: Database;
  let dispose: () => Promise<void>;
  const warnings: string[] = [];
  beforeAll(async () => {
    const target = await createTestDatabase(backend);
    const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
    db = await openDatabase({ databaseUrl: target.databaseUrl, dataDir: target.dataDir, log });
    await migrate(db, log);
    await db.pool.query('create table connection_loss_probe (note text not null)');
    dispose = async () => {
      await db.close();
      await target.dispose();
    };
  });
  afterAll(() => dispose?.());

  const written = async (note: string) =>
    (await db.pool.query<{ n: number }>('select count(*)::int as n from connection_loss_probe where note = $1', [note]))
      .rows[0]!.n;

  it('between two queries of a transaction: the transaction rejects, nothing of it stays, the pool goes on', async () => {
    const attempt = inTransaction(db.pool, async (client) => {
      await client.query('insert into connection_loss_probe values ($1)', ['between']);
      await cut(db, client, backend);
      await sleep(200); // the loss reaches the client while it is checked out and idle
      await client.query('select 1');
    });
    await expect(attempt).rejects.toThrow();
    expect(await written('between')).toBe(0);
    expect(warnings).toContain('database connection lost; it will be replaced');
    const after = await inTransaction(db.pool, async (client) => {
      await client.query('insert into connection_loss_probe values ($1)', ['after between']);
      return (await client.query<{ one: number }>('select 1 as one')).rows[0]!.one;
    });
    expect(after).toBe(1);
    expect(await written('after between')).toBe(1);
  });

  it('during a query of a transaction: the query rejects, the rollback fails quietly, the pool goes on', async () => {
    const attempt = inTransaction(db.pool, async (client) => {
      await client.query('insert into connection_loss_probe values ($1)', ['during']);
      // The embedded database runs in this process: a sleeping query there would stop the clock.
      const running = client.query(backend === 'postgres' ? 'select pg_sleep(10)' : 'select count(*) from readings');
      running.catch(() => undefined); // it may reject before it is awaited below
      await cut(db, client, backend);
      await running;
    });
    await expect(attempt).rejects.toThrow();
    expect(await written('during')).toBe(0);
    expect((await db.pool.query<{ one: number }>('select 1 as one')).rows[0]!.one).toBe(1);
  });
});
