/**
 * Guards a handshake against a change that lands while it reads the database. Socket.IO applies
 * `socketsLeave` / `disconnectSockets` only to sockets that are already connected, so a change
 * published while a handshake is between its database read and its connection would miss that
 * socket. Every change bumps the counter (on every server); a read that saw the counter move
 * reads again, and sees the committed change.
 */
export class ChangeCounter {
  #value = 0;

  bump(): void {
    this.#value++;
  }

  /** read() again while changes landed during it; gives up (throws) after `attempts` tries. */
  async readStable<T>(read: () => Promise<T>, attempts = 5): Promise<T> {
    for (let i = 0; i < attempts; i++) {
      const before = this.#value;
      const result = await read();
      if (this.#value === before) return result;
    }
    throw new Error(`changes kept landing during ${attempts} reads`);
  }
}
