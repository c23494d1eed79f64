/** Parsing the CLI's option values. */
import type { RunSelector } from '@omega-track/core';
import { TrackingInputError } from '@omega-track/core';
import type { OutputFormat } from './format';
import { UsageError } from './UsageError';

/** Option values by option name (`lock-duration`): text, true for a flag, a list for a repeatable option. */
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** An option a command takes. */
export interface OptionSpec {
  /** `string` takes a value (`--limit 5`, `--limit=5`); `boolean` is a flag (`--force`). */
  type: 'string' | 'boolean';
  /** Whether it may be given several times, its values collected; else it is given once at most. */
  multiple?: boolean;
  /** A one-letter alias (`h` for `-h`). */
  short?: string;
  /** Whether an empty value means something (an empty filter: every run); else it is refused. */
  allowEmpty?: boolean;
}

/**
 * One value of string option `name`, checked as it is read from the command line (`previous`:
 * what it held before). A value that is itself an option (`--run --event metric`) means that the
 * value is missing; an empty value, or a second value of an option taken once, is refused: either
 * would otherwise be dropped without a word.
 */
export function checkOptionValue(
  name: string,
  spec: OptionSpec,
  value: string,
  previous: string | string[] | undefined,
  isOption: (arg: string) => boolean,
): string | string[] {
  if (value.startsWith('-') && isOption(value))
    throw new UsageError(`Option '--${name} <value>' argument missing`, true);
  if (!spec.allowEmpty && value.trim() === '')
    throw new UsageError(`--${name} is empty: give it a value, or leave the option out`);
  if (spec.multiple) return [...(Array.isArray(previous) ? previous : []), value];
  if (previous !== undefined)
    throw new UsageError(`--${name} is given twice ('${String(previous)}', then '${value}'): give it once`);
  return value;
}

/** `--format`: table (default), csv or json. */
export function formatOf(values: OptionValues): OutputFormat {
  const f = stringOption(values, 'format') ?? 'table';
  if (f !== 'table' && f !== 'csv' && f !== 'json')
    throw new TrackingInputError(`--format must be table, csv or json, got '${f}'`);
  return f;
}

/** The value of a string option (the last one when it was given several times). */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  if (Array.isArray(v)) return v[v.length - 1];
  return typeof v === 'string' ? v : undefined;
}

/** A run number of `--run`: a whole number that a run can have (or count back by). */
function runNumber(text: string, given: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n))
    throw new UsageError(
      `--run ${given}: ${text} is no run number (a run number is at most ${Number.MAX_SAFE_INTEGER} either way)`,
    );
  return n;
}

/**
 * `--run` as the CLI takes it: 3, -1, 1,2,5, 2..4, -2..-1, all. A range runs upwards (5..2 is
 * refused, as `--step 5..2` is; a range from a run to one counted back from the latest, 2..-1,
 * is not known to run backwards until the runs are read).
 */
export function parseRunOption(text: string): RunSelector {
  const t = text.trim();
  if (t === 'all' || t === '*') return 'all';
  const range = /^(-?\d+)\.\.(-?\d+)$/.exec(t);
  if (range) {
    const [from, to] = [runNumber(range[1], t), runNumber(range[2], t)];
    if (Math.sign(from) === Math.sign(to) && from > to)
      throw new UsageError(`--run ${t}: a range goes upwards: ${to}..${from}`);
    return { from, to };
  }
  const parts = t.split(',').map((p) => p.trim());
  if (parts.every((p) => /^-?\d+$/.test(p))) {
    const runs = parts.map((p) => runNumber(p, t));
    return runs.length === 1 ? runs[0] : runs;
  }
  throw new TrackingInputError(
    `--run takes a run number, -1 for the latest, a list 1,2,3, a range 2..5, or all; got '${text}'`,
  );
}

/**
 * A comma-separated list option (`--event metric,param`); one that names nothing (`--event ,`)
 * is refused, since an empty list would select everything or nothing without a word.
 */
export function listOption(values: OptionValues, name: string): string[] | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0)
    throw new UsageError(`--${name} '${v}' names nothing: give one or more, comma separated`);
  return list;
}

/**
 * A time option (`--since`, `--end`): an ISO time or a span before now (`15m`). A span is always
 * counted back from now, so a signed one (`-5m`, `+5m`) is refused rather than read as `5m`.
 */
export function timeOption(values: OptionValues, name: string): string | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const signed = /^\s*[-+](\d+(?:\.\d+)?[smhdwM])\s*$/.exec(v);
  if (signed)
    throw new UsageError(
      `--${name} ${v.trim()}: a span is counted back from now and takes no sign; write --${name} ${signed[1]}`,
    );
  return v;
}

/** A count option (`--limit 10`, `--offset 0`); `all` (when allowed) gives Infinity. */
export function countOption(values: OptionValues, name: string, allowAll = false): number | undefined {
  const v = stringOption(values, name)?.trim();
  if (v === undefined) return undefined;
  if (allowAll && v === 'all') return Infinity;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v)))
    throw new TrackingInputError(
      `--${name} takes a whole number of rows${allowAll ? ' or all' : ''}, got '${v}'`,
    );
  return Number(v);
}

/** The most steps a range in `--step` may stand for (each one is matched as a value). */
const MAX_STEP_RANGE = 10_000;

/** `--step`: a step (3), a list (0,5,10) or a range (0..99). */
export function parseStepOption(text: string): number | number[] {
  const t = text.trim();
  const range = /^(-?\d+)\.\.(-?\d+)$/.exec(t);
  if (range) {
    const [from, to] = [Number(range[1]), Number(range[2])];
    if (to < from || to - from >= MAX_STEP_RANGE)
      throw new TrackingInputError(
        `--step ${t}: a range goes upwards and spans at most ${MAX_STEP_RANGE.toLocaleString('en')} steps`,
      );
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  }
  const parts = t.split(',').map((p) => p.trim());
  if (parts.length && parts.every((p) => /^-?\d+$/.test(p) && Number.isSafeInteger(Number(p))))
    return parts.length === 1 ? Number(parts[0]) : parts.map(Number);
  throw new TrackingInputError(`--step takes a step number, a list 0,5,10 or a range 0..99; got '${text}'`);
}
