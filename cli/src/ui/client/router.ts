/**
 * Hash routes: `#/` experiments, `#/e/<exp>` runs, `#/e/<exp>/compare?runs=1,2`,
 * `#/e/<exp>/run/<n>/profile|artifacts|events`, and runs of several experiments compared:
 * `#/compare?runs=<exp>:1,<exp2>:3`. Names are URI-encoded as one path segment each,
 * so an experiment name may hold '/' or '?'.
 */

export type Route =
  | { page: 'experiments' }
  | { page: 'runs'; experiment: string }
  | { page: 'compare'; experiment: string; runs: number[] }
  | { page: 'compareAcross'; runs: RunRef[] }
  | { page: 'profile' | 'artifacts' | 'events'; experiment: string; run: number }
  | { page: 'notFound'; hash: string };

export interface ParsedHash {
  segments: string[];
  query: URLSearchParams;
}

/** Splits a hash (`#/e/a%2Fb/compare?runs=1,2`) into decoded segments and its query. */
export function parseHash(hash: string): ParsedHash {
  const text = hash.replace(/^#/, '');
  const q = text.indexOf('?');
  const path = q < 0 ? text : text.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : text.slice(q + 1));
  const segments = path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  return { segments, query };
}

/** Run numbers from `1,2,3` (invalid entries dropped, duplicates once, in the given order). */
export function parseRunList(text: string | null): number[] {
  const runs: number[] = [];
  for (const part of (text ?? '').split(',')) {
    const n = Number(part.trim());
    if (part.trim() !== '' && Number.isInteger(n) && n >= 0 && !runs.includes(n)) runs.push(n);
  }
  return runs;
}

/** A run of some experiment. */
export interface RunRef {
  experiment: string;
  run: number;
}

/**
 * Runs from `exp:1,exp2:3` (each experiment name URI-encoded, as a ':' or ',' may be in it;
 * the run after the last ':'); invalid entries dropped, duplicates once, in the given order.
 */
export function parseRunRefs(text: string | null): RunRef[] {
  const refs: RunRef[] = [];
  for (const part of (text ?? '').split(',')) {
    const colon = part.lastIndexOf(':');
    if (colon <= 0) continue;
    const run = Number(part.slice(colon + 1));
    let experiment: string;
    try {
      experiment = decodeURIComponent(part.slice(0, colon));
    } catch {
      continue;
    }
    if (!Number.isInteger(run) || run < 0) continue;
    if (!refs.some((r) => r.experiment === experiment && r.run === run)) refs.push({ experiment, run });
  }
  return refs;
}

/**
 * `exp:1,exp2:3` of runs. A name is encoded twice: the hash's query is decoded once (as
 * URLSearchParams does), then parseRunRefs decodes the name (plain names read as they are).
 */
export function formatRunRefs(refs: readonly RunRef[]): string {
  return refs.map((r) => `${encodeURIComponent(encodeURIComponent(r.experiment))}:${r.run}`).join(',');
}

export function routeOf(hash: string): Route {
  const { segments, query } = parseHash(hash);
  if (segments.length === 0) return { page: 'experiments' };
  if (segments.length === 1 && segments[0] === 'compare')
    return { page: 'compareAcross', runs: parseRunRefs(query.get('runs')) };
  if (segments[0] === 'e' && segments.length >= 2) {
    const experiment = segments[1];
    if (segments.length === 2) return { page: 'runs', experiment };
    if (segments.length === 3 && segments[2] === 'compare')
      return { page: 'compare', experiment, runs: parseRunList(query.get('runs')) };
    if (segments.length === 5 && segments[2] === 'run') {
      const run = Number(segments[3]);
      const page = segments[4];
      if (Number.isInteger(run) && (page === 'profile' || page === 'artifacts' || page === 'events'))
        return { page, experiment, run };
    }
  }
  return { page: 'notFound', hash };
}

/** The hash of a page. */
export const hrefs = {
  experiments: (): string => '#/',
  runs: (experiment: string): string => `#/e/${encodeURIComponent(experiment)}`,
  compare: (experiment: string, runs: readonly number[], extra = ''): string =>
    `#/e/${encodeURIComponent(experiment)}/compare?runs=${runs.join(',')}${extra}`,
  compareAcross: (refs: readonly RunRef[], extra = ''): string =>
    `#/compare?runs=${formatRunRefs(refs)}${extra}`,
  run: (experiment: string, run: number, page: 'profile' | 'artifacts' | 'events'): string =>
    `#/e/${encodeURIComponent(experiment)}/run/${run}/${page}`,
  /** The runs table filtered to a sweep's trials (its child runs), parallel coordinates open. */
  sweepTrials: (experiment: string, run: number): string =>
    `#/e/${encodeURIComponent(experiment)}?${new URLSearchParams({ filter: `attributes.parent = ${run}`, plots: '1' }).toString()}`,
};
