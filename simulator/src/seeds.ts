import { seededRandom, seedFor } from '@glucoboard/core/simulation';

/**
 * Each meter, and each concern of a meter, draws from its own stream (core's `seedFor`): what a
 * meter measures never depends on how often the network made it resend, nor on how many other
 * meters run.
 */
export { seedFor };

export function randomFor(seed: number, text: string): () => number {
  return seededRandom(seedFor(seed, text));
}
