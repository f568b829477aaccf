/**
 * One timer for thousands of meters. Every meter's next measurement, ack timeout, reconnect and
 * retry is an entry in a binary heap ordered by due time; a single host timer is armed for the
 * earliest entry. 10,000 meters thus cost one setTimeout, not 10,000 setIntervals, and a meter
 * only wakes when it has something to do.
 */

/** Where real time and the one host timer come from: Node's by default, a virtual clock in tests. */
export interface TimerHost {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const realTimers: TimerHost = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface Timer {
  cancel(): void;
}

interface Entry extends Timer {
  at: number;
  order: number;
  task: (() => void) | null;
}

export class Scheduler {
  readonly #host: TimerHost;
  readonly #heap: Entry[] = [];
  #order = 0;
  #armedFor = Infinity;
  #handle: unknown = undefined;
  #closed = false;
  #running = false;

  constructor(host: TimerHost = realTimers) {
    this.#host = host;
  }

  now(): number {
    return this.#host.now();
  }

  /** Runs `task` at real instant `at` (or as soon as possible if that has passed). */
  at(at: number, task: () => void): Timer {
    const entry: Entry = {
      at,
      order: this.#order++,
      task,
      cancel() {
        entry.task = null;
      },
    };
    if (this.#closed) return entry;
    this.#push(entry);
    if (!this.#running && at < this.#armedFor) this.#arm();
    return entry;
  }

  after(ms: number, task: () => void): Timer {
    return this.at(this.now() + Math.max(0, ms), task);
  }

  /** Entries waiting (including cancelled ones not yet reached). */
  get size(): number {
    return this.#heap.length;
  }

  /** Drops every entry and the host timer. */
  close(): void {
    this.#closed = true;
    this.#heap.length = 0;
    if (this.#handle !== undefined) this.#host.clearTimer(this.#handle);
    this.#handle = undefined;
    this.#armedFor = Infinity;
  }

  #arm(): void {
    if (this.#handle !== undefined) this.#host.clearTimer(this.#handle);
    this.#handle = undefined;
    this.#armedFor = Infinity;
    // Cancelled entries at the top are dropped here, so they never wake the process.
    while (this.#heap.length > 0 && this.#heap[0]!.task === null) this.#pop();
    const first = this.#heap[0];
    if (!first || this.#closed) return;
    this.#armedFor = first.at;
    this.#handle = this.#host.setTimer(() => this.#run(), Math.max(0, first.at - this.#host.now()));
  }

  #run(): void {
    this.#handle = undefined;
    this.#armedFor = Infinity;
    this.#running = true;
    try {
      // Only what is due: a task run early would see that its time has not come, and ask again.
      // Tasks may schedule more work; whatever is already due runs in this wake-up too.
      const now = this.#host.now();
      while (!this.#closed && this.#heap.length > 0 && this.#heap[0]!.at <= now) {
        const entry = this.#pop();
        const task = entry.task;
        entry.task = null;
        task?.();
      }
    } finally {
      this.#running = false;
      if (!this.#closed) this.#arm();
    }
  }

  #less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #pop(): Entry {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && this.#less(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && this.#less(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
        i = smallest;
      }
    }
    return top;
  }
}

/**
 * Virtual time for tests and dry runs: timers fire only when the test advances the clock, in due
 * order, so a whole fleet runs deterministically and instantly.
 */
interface VirtualTimer {
  at: number;
  order: number;
  fn: () => void;
  live: boolean;
}

export class VirtualTime implements TimerHost {
  #now: number;
  #timers: VirtualTimer[] = [];
  #order = 0;

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const timer: VirtualTimer = { at: this.#now + Math.max(0, ms), order: this.#order++, fn, live: true };
    this.#timers.push(timer);
    return timer;
  }

  clearTimer(handle: unknown): void {
    (handle as VirtualTimer).live = false;
  }

  /** Moves the clock forward by `ms`, firing every timer that falls due on the way (and their follow-ups). */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => t.live);
      const next = this.#timers.reduce<VirtualTimer | undefined>(
        (best, t) =>
          t.at <= until && (!best || t.at < best.at || (t.at === best.at && t.order < best.order)) ? t : best,
        undefined,
      );
      if (!next) break;
      this.#now = Math.max(this.#now, next.at);
      next.live = false;
      next.fn();
    }
    this.#now = until;
  }
}
