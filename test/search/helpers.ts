import type { Omega, RunInfo } from '@omega-track/core';

/** An experiment handle as `om.runtime.experiment()` returns it. */
export type Exp = ReturnType<Omega['runtime']['experiment']>;

/** A small seeded random generator (mulberry32, the sweeps' own): the same experiment on every test run. */
export { seededRandom } from '@omega-track/core/internal';

/** One of `items`, chosen with `random`. */
export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

/** The run numbers of a run table, in its order. */
export const runNumbers = (runs: readonly RunInfo[]): number[] => runs.map((r) => r.run);

/**
 * A run table with the durations of STARTED runs left out: those grow with the time the table is
 * read at, so two reads of the same runs differ there and only there.
 */
export function withoutLiveDurations(runs: readonly RunInfo[]): RunInfo[] {
  return runs.map((r) => (r.status === 'STARTED' ? { ...r, duration: undefined } : r));
}
