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

/** `--run` as the CLI takes it: 3, -1, 1,2,5, 2..4, -2..-1, all. */
export function parseRunOption(text: string): RunSelector {
  const t = text.trim();
  if (t === 'all' || t === '*') return 'all';
  const range = /^(-?\d+)\.\.(-?\d+)$/.exec(t);
  if (range) return { from: Number(range[1]), to: Number(range[2]) };
  const parts = t.split(',').map((p) => p.trim());
  if (parts.every((p) => /^-?\d+$/.test(p))) return parts.length === 1 ? Number(parts[0]) : parts.map(Number);
  throw new TrackingInputError(
    `--run takes a run number, -1 for the latest, a list 1,2,3, a range 2..5, or all; got '${text}'`,
  );
}

/** A comma-separated list option (`--event metric,param`). */
export function listOption(values: OptionValues, name: string): string[] | undefined {
  const v = stringOption(values, name);
  return v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
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
