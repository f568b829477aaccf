import type { Namespace, Socket } from 'socket.io';
import type { Logger } from 'pino';
import type { Database } from '@glucoboard/core/storage';
import type { BoardClientToServer, BoardServerToClient } from '@glucoboard/core/wire';
import { cookieValue, liveSessions, resolveSession, SESSION_COOKIE, type SessionPolicy } from '../access/sessions.ts';
import { crossSiteRefusal } from '../access/csrf.ts';
import { membershipsOf } from '@glucoboard/core/storage';
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

/** Between the servers of one installation (serverSideEmit). */
interface BoardServerSide {
  [MEMBERSHIP_CHANGED]: () => void;
}

/** `/board` with its events typed: what the browser hears is the contract of core/src/wire/board-events.ts. */
export type BoardNamespace = Namespace<BoardClientToServer, BoardServerToClient, BoardServerSide, BoardSocketData>;
type BoardSocket = Socket<BoardClientToServer, BoardServerToClient, BoardServerSide, BoardSocketData>;

export interface Board {
  membershipChanged(userId: string, teamId: string, member: boolean): void;
  /** Signed out: the session's open boards close, on every server. */
  sessionEnded(sessionId: string): void;
  /** Stops the periodic session check. */
  close(): void;
}

/**
 * Open boards one session may have on one server: enough for every tab a nurse keeps open (board,
 * alerts, a few patients), few enough that one stolen or scripted cookie cannot hold thousands of
 * sockets. Per server, so behind N servers a session holds at most N times this.
 */
export const BOARDS_PER_SESSION = 20;

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
export function setupBoard(
  nsp: BoardNamespace,
  deps: { db: Database; sessionPolicy: SessionPolicy; sessionCheckMs: number; log: Logger },
): Board {
  const { db, log } = deps;
  const changes = new ChangeCounter();
  /** Open (or opening) boards per session on this server. */
  const opened = new Map<string, number>();

  /** Counts the board against its session until it disconnects, or refuses it over the cap. */
  function holdPlace(socket: BoardSocket, sessionId: string): HandshakeError | undefined {
    const count = opened.get(sessionId) ?? 0;
    if (count >= BOARDS_PER_SESSION) {
      return new HandshakeError(
        'TOO_MANY_CONNECTIONS',
        `this session has ${BOARDS_PER_SESSION} boards open already; close one first`,
      );
    }
    opened.set(sessionId, count + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (opened.get(sessionId) ?? 1) - 1;
      if (left > 0) opened.set(sessionId, left);
      else opened.delete(sessionId);
    };
    // A handshake that never becomes a connection (the client left meanwhile) ends with its transport.
    socket.once('disconnect', release);
    socket.conn.once('close', release);
    return undefined;
  }

  nsp.use((socket, next) => {
    authenticate(socket).then(
      (data) => {
        const refused = holdPlace(socket, data.sessionId);
        if (refused) return next(refused);
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

  async function authenticate(socket: BoardSocket): Promise<BoardSocketData> {
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
    const data = socket.data;
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

  // A session also ends by idleness (or its user is disabled) without anyone signing out: HTTP
  // then answers 401, and the boards opened with it close here, within one check interval.
  let checking = false;
  const check = setInterval(() => {
    if (checking || opened.size === 0) return;
    checking = true;
    const ids = [...opened.keys()];
    liveSessions(db.pool, ids, deps.sessionPolicy)
      .then((live) => {
        for (const id of ids) if (!live.has(id)) nsp.local.in(sessionRoom(id)).disconnectSockets(true);
      })
      // The database not answering is no reason to blank every board: checked again next time.
      .catch((err: Error) => log.warn({ err: err.message }, 'board sessions not checked; next time'))
      .finally(() => (checking = false));
  }, deps.sessionCheckMs);
  check.unref();

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
    close() {
      clearInterval(check);
    },
  };
}
