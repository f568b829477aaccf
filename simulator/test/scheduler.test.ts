import { describe, expect, it } from 'vitest';
import { Scheduler, VirtualTime, type TimerHost } from '../src/scheduler.ts';

/** Virtual time that also counts the host timers armed at once. */
function countingHost(start: number) {
  const time = new VirtualTime(start);
  let live = 0;
  let maxLive = 0;
  const host: TimerHost = {
    now: () => time.now(),
    setTimer(fn, ms) {
      live++;
      maxLive = Math.max(maxLive, live);
      return time.setTimer(() => {
        live--;
        fn();
      }, ms);
    },
    clearTimer(handle) {
      live--;
      time.clearTimer(handle);
    },
  };
  return { time, host, maxLive: () => maxLive };
}

describe('scheduler', () => {
  it('runs tasks in due order (ties in the order given) with one host timer for all of them', () => {
    const { time, host, maxLive } = countingHost(0);
    const scheduler = new Scheduler(host);
    const ran: string[] = [];
    for (let i = 0; i < 5000; i++) scheduler.at(1000 + (i % 50) * 10, () => ran.push(`m${i}`));
    scheduler.at(5, () => ran.push('first'));
    time.advance(2000);
    expect(ran).toHaveLength(5001);
    expect(ran[0]).toBe('first');
    expect(ran.slice(1, 4)).toEqual(['m0', 'm50', 'm100']);
    expect(maxLive()).toBe(1);
  });

  it('skips cancelled tasks and runs tasks that tasks schedule', () => {
    const time = new VirtualTime(0);
    const scheduler = new Scheduler(time);
    const ran: number[] = [];
    const cancelled = scheduler.at(10, () => ran.push(-1));
    scheduler.at(20, () => {
      ran.push(20);
      scheduler.after(0, () => ran.push(21));
      scheduler.after(30, () => ran.push(50));
    });
    cancelled.cancel();
    time.advance(40);
    expect(ran).toEqual([20, 21]);
    time.advance(20);
    expect(ran).toEqual([20, 21, 50]);
  });

  it('never runs a task before its time, even one due a millisecond after another', () => {
    const time = new VirtualTime(0);
    const scheduler = new Scheduler(time);
    const early: number[] = [];
    let runs = 0;
    // A meter asks to be woken at the next measurement; woken early it would just ask again, forever.
    const wake = (at: number) =>
      scheduler.at(at, () => {
        runs++;
        if (time.now() < at) early.push(at);
        if (at < 50) wake(at + 1);
      });
    wake(10);
    time.advance(100);
    expect(early).toEqual([]);
    expect(runs).toBe(41);
  });

  it('does nothing after close', () => {
    const time = new VirtualTime(0);
    const scheduler = new Scheduler(time);
    const ran: number[] = [];
    scheduler.at(10, () => ran.push(1));
    scheduler.close();
    scheduler.at(20, () => ran.push(2));
    time.advance(100);
    expect(ran).toEqual([]);
    expect(scheduler.size).toBe(0);
  });
});
