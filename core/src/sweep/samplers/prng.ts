/** A uniform number in [0, 1): a seeded generator's next draw. */
export type Random = () => number;

/**
 * mulberry32: a small, fast 32-bit PRNG, good enough to draw trials; the same seed gives the same
 * sequence on every platform (Math.random cannot be seeded).
 */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The generator of trial `index` of a sweep seeded `seed`: each trial draws from its own stream,
 * so trial i gets the same draws whatever order trials ran or were resumed in.
 */
export function trialRandom(seed: number, index: number): Random {
  // mix the two so that neighbouring seeds and indices give unrelated streams
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return seededRandom(h ^ (h >>> 16));
}

/** A standard normal draw (Box–Muller). */
export function normal(random: Random): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
