import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';

/**
 * The benchmark's ceilings, measured in the same run on the same machine (SPEC section 6): what
 * the pieces under Glucoboard can do with nothing of Glucoboard in the way. The ratios to them say
 * how much the product's own work (validation, idempotency, outbox, acks, evaluation) costs.
 */

export interface Rate {
  items: number;
  seconds: number;
  perSecond: number;
}

const rate = (items: number, startedAt: number): Rate => {
  const seconds = (performance.now() - startedAt) / 1000;
  return { items, seconds, perSecond: items / seconds };
};

/**
 * Bare `pg` batch inserts into a table of the readings table's shape (same columns, types, checks
 * and index; no idempotency keys, no outbox, no validation), `batch` rows per INSERT … unnest, one
 * statement at a time on one connection: the database's own ceiling for the write.
 */
export async function pgInsertCeiling(pool: pg.Pool, options: { rows: number; batch: number }): Promise<Rate> {
  const table = `bench_ceiling_${process.pid}`;
  await pool.query(`create table ${table} (like readings including all)`);
  try {
    const now = Date.now();
    const started = performance.now();
    for (let done = 0; done < options.rows; done += options.batch) {
      const n = Math.min(options.batch, options.rows - done);
      const seqs = Array.from({ length: n }, (_, i) => done + i);
      await pool.query(
        `insert into ${table} (measured_at, patient_id, device_serial, seq, mmol, flag, kind, meal, source)
         select m, '00000000-0000-4000-8000-000000000000', 'CEILING', s, v, null, 'cgm', null, 'device'
         from unnest($1::timestamptz[], $2::bigint[], $3::float8[]) as t(m, s, v)`,
        [seqs.map((s) => new Date(now - s * 1000)), seqs, seqs.map((s) => 4 + (s % 80) / 10)],
      );
    }
    return rate(options.rows, started);
  } finally {
    await pool.query(`drop table ${table}`);
  }
}

/**
 * Bare Socket.IO: a server whose `readings` handler acks at once, and `clients` websocket clients
 * each sending `messages` batches of `batchSize` readings, one in flight per client (as a meter
 * does). The transport's ceiling for acknowledged messages; readings/s = messages/s × batchSize.
 */
export async function socketIoCeiling(options: {
  clients: number;
  messages: number;
  batchSize: number;
}): Promise<Rate & { readingsPerSecond: number }> {
  const server = http.createServer();
  const io = new Server(server, { serveClient: false });
  io.of('/devices').on('connection', (socket) => {
    socket.on('readings', (payload: { readings: unknown[] }, ack: (answer: unknown) => void) =>
      ack({ ok: true, accepted: payload.readings.length, duplicates: 0, rejected: [] }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/devices`;
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < options.clients; i++)
      sockets.push(connect(url, { transports: ['websocket'], forceNew: true, reconnection: false }));
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.once('connect', () => resolve()))));
    const now = Date.now();
    const batch = {
      readings: Array.from({ length: options.batchSize }, (_, i) => ({
        seq: i,
        measuredAt: new Date(now - i * 300_000).toISOString(),
        mmol: 6.1,
        kind: 'cgm',
      })),
    };
    const started = performance.now();
    await Promise.all(
      sockets.map(async (socket) => {
        for (let m = 0; m < options.messages; m++) await socket.emitWithAck('readings', batch);
      }),
    );
    const measured = rate(options.clients * options.messages, started);
    return { ...measured, readingsPerSecond: measured.perSecond * options.batchSize };
  } finally {
    for (const s of sockets) s.disconnect();
    await io.close();
  }
}
