import type { Logger } from 'pino';

/**
 * Records that devices connected (devices.last_seen_at), many devices per statement.
 *
 * One update per handshake was one commit, and one WAL flush, per meter: in the steady profile's
 * ramp (about 180 meters a second connecting) those single-row updates were the database's
 * second most frequent activity, most of it waiting on the WAL (docs/benchmarks.md,
 * 2026-12-04). Connections are gathered for up to `intervalMs` and written in one statement; a
 * failed write is logged and dropped (the next readings set last_seen_at anyway).
 */
export class DeviceConnections {
  readonly #write: (serials: string[]) => Promise<void>;
  readonly #log: Logger;
  readonly #intervalMs: number;
  #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(write: (serials: string[]) => Promise<void>, log: Logger, intervalMs = 1000) {
    this.#write = write;
    this.#log = log;
    this.#intervalMs = intervalMs;
  }

  connected(serial: string): void {
    this.#pending.add(serial);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#flush(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** Writes what is pending now and waits for every write begun. */
  async close(): Promise<void> {
    this.#flush();
    await this.#writing;
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size === 0) return;
    const serials = [...this.#pending];
    this.#pending = new Set();
    this.#writing = this.#writing.then(() =>
      this.#write(serials).catch((err: Error) =>
        this.#log.warn({ err: err.message, devices: serials.length }, 'could not record device last_seen_at'),
      ),
    );
  }
}
