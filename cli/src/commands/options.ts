/** Parsing the CLI's option values. */
import type { RunSelector } from '@omega-track/core';
import { TrackingInputError } from '@omega-track/core';
import type { OutputFormat } from './format';

/** Option values as parseArgs gives them. */
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** An option declaration, as parseArgs takes it. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
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

/**
 * Joins a string option and a following value that starts with `-` (`--run -1`, `--run -2..-1`,
 * `--offset -0`) into `--run=-1`, because node's parseArgs takes such a value for an option and
 * refuses it as ambiguous. `--run` takes whatever follows; other string options take a
 * following value that looks like a negative number.
 */
export function joinDashValues(argv: readonly string[], options: Record<string, OptionSpec>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = argv[i + 1];
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    const spec = name !== undefined ? options[name] : undefined;
    if (
      spec?.type === 'string' &&
      next !== undefined &&
      next.startsWith('-') &&
      (name === 'run' || name === 'sort' ? next !== '--' && !isOption(next, options) : /^-[\d.]/.test(next))
    ) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** Whether `arg` names one of `options` (`--event`, `--event=x`, `-h`). */
function isOption(arg: string, options: Record<string, OptionSpec>): boolean {
  if (arg.startsWith('--')) return arg.slice(2).split('=')[0] in options;
  return Object.values(options).some((o) => o.short !== undefined && arg === `-${o.short}`);
}
