import { seededRandom } from '@glucoboard/core/domain';

/**
 * A seed for one purpose of one thing (FNV-1a over the text, starting from the run's seed), so each
 * meter, and each concern of a meter, draws from its own stream: what a meter measures never
 * depends on how often the network made it resend, nor on how many other meters run.
 */
export function seedFor(seed: number, text: string): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (const char of text) hash = Math.imul(hash ^ char.codePointAt(0)!, 0x01000193) >>> 0;
  return hash;
}

export function randomFor(seed: number, text: string): () => number {
  return seededRandom(seedFor(seed, text));
}
