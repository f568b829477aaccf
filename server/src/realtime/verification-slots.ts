/**
 * At most `size` device verifications (throttle check, database read, argon2) run at once; the
 * rest wait their turn, first come first served. argon2 runs on libuv's 4 threads anyway, so a
 * few slots cost no throughput, and they make the throttle hold under concurrency: an attempt
 * checks the failure count when its turn comes, after the failures ahead of it were counted,
 * not when it arrived with a thousand others that all saw a count of zero.
 */
export class VerificationSlots {
  readonly #waiting: Array<() => void> = [];
  #busy = 0;

  constructor(readonly size: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#busy >= this.size) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#busy++;
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#busy--;
    }
  }

  get waiting(): number {
    return this.#waiting.length;
  }
}
