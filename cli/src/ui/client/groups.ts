/**
 * Groups of runs (the runs table's `group=`, the compare page's too): by a param (`params.lr`), a
 * tag (`tags.team`), the parent run (`parent`: the trials of a sweep) or a pattern on the run name
 * (`/seed-\d+/`: runs whose names are the same but for the match are one group, `resnet-seed-1`
 * and `resnet-seed-2` → `resnet-`; a pattern with a capture group is grouped by what the group
 * captured, `/^(\w+)-/`; `name` alone is the name without its trailing number). The
 * runs page and the compare page read `group=` with these same functions.
 */
import type { RunJson } from './api';

export type GroupSpec =
  | { kind: 'param' | 'tag'; key: string }
  | { kind: 'parent' }
  | { kind: 'name'; pattern: RegExp }
  | { kind: 'invalid'; message: string };

export interface RunGroup {
  /** The group's value as text (the same for every member); '' for runs without one. */
  key: string;
  members: RunJson[];
}

/** What `group=name` cuts off a run's name. */
const TRAILING_NUMBER = /[-_ .#]*\d+$/;

/** The spec of a `group=` value; '' is no grouping (undefined). */
export function parseGroup(text: string): GroupSpec | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  if (t === 'parent') return { kind: 'parent' };
  // `name`: the name without its trailing number (`resnet-seed-3` → `resnet-seed`)
  if (t === 'name') return { kind: 'name', pattern: TRAILING_NUMBER };
  if (t.startsWith('/')) {
    const end = t.lastIndexOf('/');
    if (end <= 0) return { kind: 'invalid', message: `a name pattern is written /…/, got ${t}` };
    try {
      return { kind: 'name', pattern: new RegExp(t.slice(1, end), t.slice(end + 1).replace(/[gy]/g, '')) };
    } catch (error) {
      return { kind: 'invalid', message: error instanceof Error ? error.message : String(error) };
    }
  }
  const m = /^(params|tags)\.(.+)$/.exec(t);
  if (m) return { kind: m[1] === 'params' ? 'param' : 'tag', key: unquote(m[2]) };
  return {
    kind: 'invalid',
    message: `group by params.<key>, tags.<key>, parent, name or /pattern/, got ${t}`,
  };
}

/** The runs of `runs` that are the parent of another of them (a sweep's own run). */
export function parentsIn(runs: Iterable<RunJson>): Set<number> {
  const parents = new Set<number>();
  for (const r of runs) if (r.parent !== undefined) parents.add(r.parent);
  return parents;
}

/**
 * The group of one run under a spec, as text. Under `parent`, a run in `parents` (parentsIn of the
 * runs grouped) heads the group of its children rather than sitting among the runs without one.
 */
export function groupKeyOf(run: RunJson, spec: GroupSpec, parents?: ReadonlySet<number>): string {
  switch (spec.kind) {
    case 'param':
      return valueText(run.params?.[spec.key]);
    case 'tag':
      return valueText(run.tags?.[spec.key]);
    case 'parent':
      if (parents?.has(run.run)) return String(run.run);
      return run.parent === undefined ? '' : String(run.parent);
    case 'name': {
      // a pattern with a group names the group (`/(resnet|vit)-/`); without, the name less what
      // the pattern matches (`/-seed-\d+/`: resnet-seed-3-bs64 → resnet-bs64)
      const name = run.name ?? '';
      const m = spec.pattern.exec(name);
      if (!m) return name;
      if (m.length > 1 && m[1] !== undefined) return m[1];
      return name.slice(0, m.index) + name.slice(m.index + m[0].length);
    }
    case 'invalid':
      return '';
  }
}

/**
 * The runs in groups, in the order the first member of each comes in `runs` (the table's sort),
 * the members in that order too.
 */
export function groupRuns(runs: readonly RunJson[], spec: GroupSpec): RunGroup[] {
  const groups = new Map<string, RunGroup>();
  const parents = spec.kind === 'parent' ? parentsIn(runs) : undefined;
  for (const run of runs) {
    const key = groupKeyOf(run, spec, parents);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { key, members: [] }));
    group.members.push(run);
  }
  return [...groups.values()];
}

/** Mean, min and max of the finite numbers among `values` (undefined when there are none). */
export function aggregate(
  values: ReadonlyArray<number | undefined>,
): { mean: number; min: number; max: number; count: number } | undefined {
  let sum = 0;
  let count = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v === undefined || !Number.isFinite(v)) continue;
    sum += v;
    count++;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return count === 0 ? undefined : { mean: sum / count, min, max, count };
}

function valueText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `lr`, `` `my.key` `` → the key. */
function unquote(text: string): string {
  const m = /^`((?:[^`]|``)*)`$/.exec(text);
  return m ? m[1].replace(/``/g, '`') : text;
}
