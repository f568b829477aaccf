/**
 * Ack latencies, every one of them (8 bytes each: a million acks is 8 MB), so percentiles are exact
 * rather than bucketed. A mark lets the progress line report the last second alone.
 */
export class LatencyRecorder {
  #values = new Float64Array(4096);
  #count = 0;

  record(ms: number): void {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#count++] = ms;
  }

  get count(): number {
    return this.#count;
  }

  /** Nearest-rank percentiles (0-100) of the values recorded since `from` (a previous count). */
  percentiles(ps: readonly number[], from = 0): number[] {
    return percentiles(this.#values.subarray(Math.min(from, this.#count), this.#count), ps);
  }
}

/** Nearest-rank percentiles of a list (NaN for an empty one). */
export function percentiles(values: ArrayLike<number>, ps: readonly number[]): number[] {
  const sorted = Float64Array.from(values).sort();
  return ps.map((p) => {
    if (sorted.length === 0) return NaN;
    const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
    return sorted[rank - 1]!;
  });
}
