/**
 * A source of system facts that core cannot know by itself: a library the program uses (tfjs:
 * its version, backend and memory) registers one, and `logSystem()` and the profiler ask it.
 */
export interface SystemProbe {
  /** Facts for a `system` event, stored under the probe's name. */
  facts(): Record<string, unknown>;
  /** Figures for a profile sample: metric key → number; must be cheap (called on every sample). */
  sample(): Record<string, number>;
}

const probes = new Map<string, SystemProbe>();

/** Registers `probe` under `name`, replacing the one registered before under that name. */
export function registerSystemProbe(name: string, probe: SystemProbe): void {
  probes.set(name, probe);
}

/**
 * Every probe's facts, by probe name. A probe that fails gives its error's message instead:
 * a system event is never lost to a probe.
 */
export function probeFacts(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, probe] of probes) {
    try {
      out[name] = probe.facts();
    } catch (error) {
      out[name] = { error: error instanceof Error ? error.message : String(error) };
    }
  }
  return out;
}

/** Every probe's figures for one profile sample; a probe that fails gives none this time. */
export function probeSample(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const probe of probes.values()) {
    try {
      Object.assign(out, probe.sample());
    } catch {
      // its figures are missing from this sample, nothing more
    }
  }
  return out;
}
