import type { Namespace, Socket } from 'socket.io';
import type { Logger } from 'pino';
import type { Database } from '@glucoboard/core/storage';
import { cookieValue, resolveSession, SESSION_COOKIE, type SessionPolicy } from '../access/sessions.ts';
import { crossSiteRefusal } from '../access/csrf.ts';
import { membershipsOf } from '../access/teams.ts';
import { ChangeCounter } from './change-counter.ts';
import { HandshakeError, unavailable } from './errors.ts';
import { sessionRoom, teamRoom, userRoom } from './rooms.ts';

export const BOARD_NAMESPACE = '/board';

/** What a board socket carries after its handshake (ids only). */
export interface BoardSocketData {
  userId: string;
  sessionId: string;
  sessionExpiresAt: number;
  teamIds: string[];
}

/** Told to every other server, so their handshakes in flight re-read memberships. */
const MEMBERSHIP_CHANGED = 'glucoboard:membership-changed';

export interface Board {
  membershipChanged(userId: string, teamId: string, member: boolean): void;
  /** Signed out: the session's open boards close, on every server. */
  sessionEnded(sessionId: string): void;
}

/** setTimeout's longest delay; a later expiry is checked again when that fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * /board: browsers of signed-in people, authenticated by the session cookie sent with the
 * handshake. The server alone decides the rooms: `user:<id>` and `team:<id>` for each of the
 * user's memberships. There is no client event that joins or leaves a room.
 *
 * A sysadmin is no exception: on the board she sees only the teams she is a member of. Being a
 * sysadmin is about running the installation (listing all teams, adding people), not about
 * watching every team's patients live; she joins a team to do that.
 */
export function setupBoard(nsp: Namespace, deps: { db: Database; sessionPolicy: SessionPolicy; log: Logger }): Board {
  const { db, log } = deps;
  const changes = new ChangeCounter();

  nsp.use((socket, next) => {
    authenticate(socket).then(
      (data) => {
        socket.data = data;
        next();
      },
      (err: unknown) => {
        if (err instanceof HandshakeError) return next(err);
        log.error({ err: (err as Error).message }, 'board handshake failed');
        next(unavailable());
      },
    );
  });

  async function authenticate(socket: Socket): Promise<BoardSocketData> {
    const headers = socket.handshake.headers;
    const crossSite = crossSiteRefusal({
      secFetchSite: headers['sec-fetch-site'] as string | undefined,
      origin: headers.origin,
      host: headers.host,
    });
    if (crossSite) throw new HandshakeError('UNAUTHORIZED', crossSite);
    let token: string | undefined;
    try {
      token = cookieValue(socket.handshake.headers.cookie, SESSION_COOKIE);
    } catch {
      token = undefined; // malformed percent-encoding
    }
    const user = await resolveSession(db.pool, token, deps.sessionPolicy);
    if (!user) throw new HandshakeError('UNAUTHORIZED', 'no valid session; sign in first');
    const memberships = await changes.readStable(() => membershipsOf(db.pool, user.userId));
    return {
      userId: user.userId,
      sessionId: user.sessionId,
      sessionExpiresAt: user.expiresAt.getTime(),
      teamIds: [...memberships.keys()],
    };
  }

  // Joining here, in the same tick as the middleware's last read (Socket.IO connects the socket
  // on process.nextTick after next()), leaves no gap for a membership change to slip through.
  nsp.on('connection', (socket) => {
    const data = socket.data as BoardSocketData;
    void socket.join([userRoom(data.userId), sessionRoom(data.sessionId), ...data.teamIds.map(teamRoom)]);
    log.debug({ userId: data.userId, teams: data.teamIds.length }, 'board connected');
    // A board open past its session's absolute expiry is closed, as an HTTP request would be refused.
    const expiry = setTimeout(
      () => socket.disconnect(true),
      Math.min(Math.max(data.sessionExpiresAt - Date.now(), 0), MAX_TIMER_MS),
    );
    socket.on('disconnect', (reason) => {
      clearTimeout(expiry);
      log.debug({ userId: data.userId, reason }, 'board disconnected');
    });
  });

  nsp.on(MEMBERSHIP_CHANGED, () => changes.bump());

  return {
    membershipChanged(userId, teamId, member) {
      changes.bump();
      // Published in this order on one connection, so every server bumps before it moves sockets.
      nsp.serverSideEmit(MEMBERSHIP_CHANGED);
      const sockets = nsp.in(userRoom(userId));
      if (member) sockets.socketsJoin(teamRoom(teamId));
      else sockets.socketsLeave(teamRoom(teamId));
      log.info({ userId, teamId, member }, 'board rooms follow a membership change');
    },
    sessionEnded(sessionId) {
      nsp.in(sessionRoom(sessionId)).disconnectSockets(true);
    },
  };
}
