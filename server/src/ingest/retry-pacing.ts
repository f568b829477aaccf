/**
 * When to tell a refused device to come back (OVERLOADED's `retryAfterMs`).
 *
 * A reconnect storm brings far more batches than the writer's queue holds: 10,000 meters with one
 * 48-reading batch each in flight are 480,000 rows against a bound of 20,000. Told only how long
 * the rows queued now take, every refused meter came back at about the same time and most were
 * refused again: in the 2026-12-04 storm with the CPU profiler on, two of every three batches the
 * server parsed and validated were refused, and each was sent, parsed and answered again
 * (docs/benchmarks.md).
 *
 * So refusals are handed out in turn, like tickets: each refused batch is given the moment when
 * the rows queued now, and the rows of the batches refused before it, will have been written, and
 * moves that moment on by its own rows. Coming back then, a device finds room; the writer keeps a
 * buffer of `bufferRows` queued so it never runs dry while the devices are on their way.
 */
export class RetryPacer {
  readonly #bufferRows: number;
  readonly #minMs: number;
  readonly #maxMs: number;
  /**
   * When the rows of the last refused batch will have been written, had it come back at its
   * turn (ms, the caller's clock): the next refused batch's turn is no earlier.
   */
  #lastTurn = 0;

  constructor(options: { bufferRows: number; minMs?: number; maxMs?: number }) {
    this.#bufferRows = options.bufferRows;
    this.#minMs = options.minMs ?? 100;
    this.#maxMs = options.maxMs ?? 60_000;
  }

  /**
   * The wait for a refused batch of `rows`, with `queuedRows` waiting now and the writer
   * committing `rowsPerMs` (0 when it has not committed yet: the shortest wait, no turn taken).
   */
  retryAfterMs(now: number, rows: number, queuedRows: number, rowsPerMs: number): number {
    if (!(rowsPerMs > 0)) return this.#minMs;
    const room = now + Math.max(0, queuedRows - this.#bufferRows) / rowsPerMs;
    const turn = Math.min(Math.max(room, this.#lastTurn), now + this.#maxMs);
    this.#lastTurn = turn + rows / rowsPerMs;
    return Math.min(this.#maxMs, Math.max(this.#minMs, Math.ceil(turn - now)));
  }
}
