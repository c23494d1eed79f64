import { decodeValue } from '../../events/valueCodec';

/**
 * The events whose latest value (and, for metrics, min, max and count) a store keeps per run
 * and key as they are written, so that `runs()` reads one row per run and key instead of every
 * event (as MLflow keeps `latest_metrics`).
 */
export const STATS_EVENTS: ReadonlySet<string> = new Set(['start', 'stop', 'metric', 'param', 'tag', 'name', 'note']);

/** What one written batch adds to the aggregate of one run, event and key. */
export interface RunStatsDelta {
  event: string;
  key: string;
  /** The value with the latest time (JSON text, as valueCodec writes it: NaN kept). */
  last: string;
  lastDt: number;
  lastStep: number | null;
  /** Smallest and largest finite numeric value, null when there is none. */
  min: number | null;
  max: number | null;
  /** Numeric values (metrics) or events (others). */
  count: number;
  /** Who recorded the latest one (the start event's node and user are the run's). */
  node: string;
  userid: string;
}

/** One aggregate as a store reads it back. */
export interface RunStatsRow {
  run: number;
  event: string;
  key: string;
  last: unknown;
  lastDt: number;
  lastStep: number | null;
  min: number | null;
  max: number | null;
  count: number;
  node: string;
  userid: string;
}

/** Decodes the `last` text of a stored aggregate. */
export function decodeStatsValue(text: string | null): unknown {
  return text === null ? null : decodeValue(text);
}
