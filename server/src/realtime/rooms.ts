/**
 * Room names: the only addressing scheme of the realtime layer. Rooms are joined by the server
 * alone; no client event can name one.
 */

/** Every board socket of a member of the team. */
export const teamRoom = (teamId: string): string => `team:${teamId}`;

/** Every board socket of one user (all tabs, on every server): the handle for membership changes. */
export const userRoom = (userId: string): string => `user:${userId}`;

/** The board sockets opened with one session: closed together when the session ends. */
export const sessionRoom = (sessionId: string): string => `session:${sessionId}`;

/** The live connection(s) of one meter. */
export const deviceRoom = (deviceId: string): string => `device:${deviceId}`;
