import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { teamRoom, userRoom } from '../src/realtime/index.ts';
import { PASSWORD, startClinic, type TeamFixture, type TestSystem } from './support/clinic.ts';

let env: TestSystem;
let A: TeamFixture;

beforeAll(async () => {
  [env, A] = await startClinic('Team A');
});
afterAll(() => env?.stop());

describe('access changes on live connections', () => {
  const sockets: Socket[] = [];
  afterAll(() => sockets.forEach((s) => s.disconnect()));
  const connect = (namespace: string, options: Partial<ManagerOptions & SocketOptions>) => {
    const socket = io(`${env.system.url}${namespace}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      ...options,
    });
    sockets.push(socket);
    return socket;
  };
  const connected = (socket: Socket) =>
    new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });

  it("refuses a board opened from another site with the nurse's cookie (cross-site WebSocket hijacking)", async () => {
    const evil = connect('/board', { extraHeaders: { cookie: A.nurse.cookie!, origin: 'https://evil.example' } });
    const refused = await new Promise<Error & { data?: { code: string } }>((resolve) =>
      evil.once('connect_error', resolve),
    );
    expect(refused.data?.code).toBe('UNAUTHORIZED');
    const own = connect('/board', { extraHeaders: { cookie: A.nurse.cookie!, origin: env.system.url } });
    await connected(own);
  });

  it("removing a nurse from the team (HTTP API) takes her open board out of the team's room at once", async () => {
    const nurse = await env.client().login('nurse@team-a.example.se', PASSWORD);
    const board = connect('/board', { extraHeaders: { cookie: nurse.cookie! } });
    await connected(board);
    const received: string[] = [];
    board.on('reading', (r: { marker: string }) => received.push(r.marker));
    const boardNs = env.system.realtime.io.of('/board');
    boardNs.to(teamRoom(A.teamId)).emit('reading', { marker: 'while member' });
    await expect.poll(() => received).toEqual(['while member']);

    expect((await A.admin.request('DELETE', `/api/teams/${A.teamId}/members/${A.nurseId}`)).status).toBe(204);
    try {
      await expect.poll(async () => (await boardNs.in(teamRoom(A.teamId)).fetchSockets()).length).toBe(0);
      boardNs.to(teamRoom(A.teamId)).emit('reading', { marker: 'after removal' });
      boardNs.to(userRoom(A.nurseId)).emit('reading', { marker: 'to her alone' });
      await expect.poll(() => received).toEqual(['while member', 'to her alone']);
    } finally {
      await A.admin.post(`/api/teams/${A.teamId}/members`, { userId: A.nurseId, role: 'nurse' });
    }
  });

  it('signing out closes the boards opened with that session, and only those', async () => {
    const first = await env.client().login('nurse@team-a.example.se', PASSWORD);
    const second = await env.client().login('nurse@team-a.example.se', PASSWORD);
    const closing = connect('/board', { extraHeaders: { cookie: first.cookie! } });
    const staying = connect('/board', { extraHeaders: { cookie: second.cookie! } });
    await Promise.all([connected(closing), connected(staying)]);
    const disconnected = new Promise<string>((resolve) => closing.once('disconnect', resolve));
    expect((await first.post('/api/auth/logout')).status).toBe(204);
    expect(await disconnected).toBe('io server disconnect');
    expect(staying.connected).toBe(true);
  });

  it('revoking a device (HTTP API) disconnects its live connection, and its token is refused after', async () => {
    const meter = connect('/devices', { auth: { deviceId: A.deviceId, token: A.deviceToken } });
    await connected(meter);
    const disconnected = new Promise<string>((resolve) => meter.once('disconnect', resolve));
    expect((await A.admin.post(`/api/devices/${A.deviceId}/revoke`)).status).toBe(200);
    expect(await disconnected).toBe('io server disconnect');
    const again = connect('/devices', { auth: { deviceId: A.deviceId, token: A.deviceToken } });
    const refused = await new Promise<Error & { data?: { code: string } }>((resolve) =>
      again.once('connect_error', resolve),
    );
    expect(refused.data?.code).toBe('DEVICE_AUTH');

    // A revoked meter stays revoked: a new token does not bring it back, only an explicit reactivation.
    const rotated = await A.admin.post(`/api/devices/${A.deviceId}/rotate`);
    expect(rotated.status).toBe(409);
    expect(rotated.body.error.code).toBe('DEVICE_REVOKED');
    const reactivated = await A.admin.post(`/api/devices/${A.deviceId}/reactivate`);
    expect(reactivated.status).toBe(200);
    await connected(connect('/devices', { auth: { deviceId: A.deviceId, token: reactivated.body.token } }));
  });
});
