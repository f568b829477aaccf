import { createHash } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOARDS_PER_SESSION } from '../src/realtime/board.ts';
import { ADMIN, buildTeam, PASSWORD, startTestSystem } from './support/clinic.ts';
import { Sockets } from './support/sockets.ts';

// Issue 18 items 5 and 10: a board closes when its session ends by idleness too, and one session
// cannot hold an unbounded number of boards.

let env: Awaited<ReturnType<typeof startTestSystem>>;
const sockets = new Sockets(() => env.system.url);

beforeAll(async () => {
  env = await startTestSystem('postgres', { BOARD_SESSION_CHECK_SECONDS: '1' });
  const sys = await env.client().login(ADMIN.email, ADMIN.password);
  await buildTeam(sys, env.system.url, 'Board sessions');
});
afterAll(async () => {
  sockets.closeAll();
  await env?.stop();
});

/** The stored id of the session behind a cookie (the token's SHA-256, as sessions.ts keeps it). */
const sessionIdOf = (cookie: string) =>
  createHash('sha256')
    .update(decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1)))
    .digest('hex');

const disconnected = (socket: Socket, withinMs: number) =>
  new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), withinMs);
    socket.once('disconnect', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });

describe('board sessions', () => {
  it('closes an open board once its session has been idle past the limit, and only that one', async () => {
    const idle = await env.client().login(`nurse@board-sessions.example.se`, PASSWORD);
    const active = await env.client().login(`nurse@board-sessions.example.se`, PASSWORD);
    const idleBoard = await sockets.board(idle.cookie!);
    const activeBoard = await sockets.board(active.cookie!);
    // Thirty-one minutes without a request, as the database sees it (the default idle limit is 30).
    const aged = await env.system.db.pool.query(
      `update sessions set last_seen_at = now() - interval '31 minutes' where id = $1`,
      [sessionIdOf(idle.cookie!)],
    );
    expect(aged.rowCount).toBe(1);
    const [idleClosed, activeClosed] = await Promise.all([
      disconnected(idleBoard.socket, 5000),
      disconnected(activeBoard.socket, 3000),
    ]);
    expect(idleClosed).toBe(true);
    expect(activeClosed).toBe(false);
    expect((await idle.get('/api/me')).status).toBe(401);
    expect(activeBoard.socket.connected).toBe(true);
  });

  it(`refuses board number ${BOARDS_PER_SESSION + 1} of one session with TOO_MANY_CONNECTIONS; other sessions and freed places connect`, async () => {
    const tab = await env.client().login(`admin@board-sessions.example.se`, PASSWORD);
    const boards = [];
    for (let i = 0; i < BOARDS_PER_SESSION; i++) boards.push(await sockets.board(tab.cookie!));
    const extra = io(`${env.system.url}/board`, {
      extraHeaders: { cookie: tab.cookie! },
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    });
    const refusal = await new Promise<Error & { data?: { code: string } }>((resolve, reject) => {
      extra.once('connect_error', resolve);
      extra.once('connect', () => reject(new Error('the board over the cap connected')));
    });
    extra.close();
    expect(refusal.data?.code).toBe('TOO_MANY_CONNECTIONS');
    // Another session of the same person is not affected.
    const other = await env.client().login(`admin@board-sessions.example.se`, PASSWORD);
    await sockets.board(other.cookie!);
    // A closed tab frees its place.
    const first = boards[0]!.socket;
    const gone = disconnected(first, 2000);
    first.disconnect();
    await gone;
    await new Promise((r) => setTimeout(r, 100));
    await expect(sockets.board(tab.cookie!)).resolves.toBeDefined();
  });
});
