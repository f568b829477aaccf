/**
 * Bounds the handshakes in flight. The server checks each new device's token with argon2 (tens of
 * ms of CPU), so 5,000 meters connecting at once would queue minutes of hashing, time out, retry
 * and queue it again. Meters wait here instead, in order, and a few dozen hash at a time.
 */
export class ConnectGate {
  readonly #limit: number;
  #inFlight = 0;
  readonly #waiting: (() => boolean)[] = [];
  #head = 0;

  constructor(limit: number) {
    if (!(limit >= 1)) throw new RangeError('the connect limit must be at least 1');
    this.#limit = Math.floor(limit);
  }

  /** Calls `enter` when a slot is free (at once if one is); the caller must release() it exactly once. */
  acquire(enter: () => void): { cancel(): void } {
    if (this.#inFlight < this.#limit) {
      this.#inFlight++;
      enter();
      return { cancel: () => undefined };
    }
    let live = true;
    this.#waiting.push(() => {
      if (!live) return false;
      live = false;
      enter();
      return true;
    });
    return {
      cancel: () => {
        live = false;
      },
    };
  }

  release(): void {
    this.#inFlight--;
    while (this.#head < this.#waiting.length) {
      const next = this.#waiting[this.#head]!;
      this.#waiting[this.#head++] = noop;
      if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
        this.#waiting.splice(0, this.#head);
        this.#head = 0;
      }
      this.#inFlight++;
      if (next()) return;
      this.#inFlight--;
    }
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get waiting(): number {
    return this.#waiting.length - this.#head;
  }
}

const noop = () => false;
