import { env } from '../process/env';
import type { RunInfo } from '../events/types';
import type { RunLiveness } from '../store/Store';

/** How often a process that holds a run says it is alive (ms); `OMEGA_HEARTBEAT_MS` overrides it. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
/** How long a STARTED run may go without a sign of life before it reads as CRASHED (ms). */
export const DEFAULT_CRASH_AFTER_MS = 60_000;

function positiveFromEnv(name: string): number | undefined {
  const n = Number(env()[name]);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** The heartbeat interval in use: the option, else OMEGA_HEARTBEAT_MS, else 10 s. */
export function heartbeatIntervalMs(option: unknown): number {
  if (typeof option === 'number' && option > 0) return option;
  return positiveFromEnv('OMEGA_HEARTBEAT_MS') ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
}

/** The crash threshold in use: the option, else OMEGA_CRASH_AFTER_MS, else 60 s. */
export function crashAfterMs(option: unknown): number {
  if (typeof option === 'number' && option > 0) return option;
  return positiveFromEnv('OMEGA_CRASH_AFTER_MS') ?? DEFAULT_CRASH_AFTER_MS;
}

/**
 * Whether a run without a stop event is dead: its last sign of life (the latest heartbeat of any
 * process holding it, else its start) is older than `crashAfter`, or than three of its holder's
 * heartbeat intervals when those are longer — a slow beater is not taken for a dead one.
 */
export function isCrashed(
  started: Date | undefined,
  beat: RunLiveness | undefined,
  crashAfter: number,
  now = Date.now(),
): boolean {
  const last = Math.max(beat?.lastBeat ?? 0, started?.getTime() ?? 0);
  if (last === 0) return false;
  return now - last > Math.max(crashAfter, 3 * (beat?.intervalMs ?? 0));
}

/**
 * Marks the STARTED runs among `runs` that no process keeps alive as CRASHED, with a duration up
 * to their last sign of life (it does not keep growing). Runs in `held` are this process's own.
 */
export function markCrashed(
  runs: RunInfo[],
  beats: Map<number, RunLiveness>,
  held: { has(run: number): boolean },
  crashAfter: number,
  now = Date.now(),
): RunInfo[] {
  for (const info of runs) {
    if (info.status !== 'STARTED' || held.has(info.run)) continue;
    const beat = beats.get(info.run);
    if (!isCrashed(info.started, beat, crashAfter, now)) continue;
    info.status = 'CRASHED';
    if (info.started)
      info.duration = Math.max(beat?.lastBeat ?? 0, info.started.getTime()) - info.started.getTime();
  }
  return runs;
}
