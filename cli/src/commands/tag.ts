/** `omega-track tag`: sets tags on a run that exists, without starting or stopping one. */
import type { Omega, TrackingProvider } from '@omega-track/core';
import { TrackingError, TrackingInputError } from '@omega-track/core';
import { validateRunMetadata } from '@omega-track/core/internal';
import type { Command } from './command';
import { REQUIRE_HELP } from './command';
import { requireExperiment } from './experiment';
import { cellText } from './format';
import { safeLine } from './output';

/**
 * A tag value as given on the command line: JSON when it parses (`0.01`, `true`, `[1,2]`,
 * `"quoted text"`), else the text itself (`nlp`, `resnet-50`).
 */
export function tagValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The tags `key=value` arguments give (split at the first `=`); checked like any tag. */
export function parseTagArgs(args: readonly string[]): Record<string, unknown> {
  if (args.length === 0)
    throw new TrackingInputError(
      'tag takes one or more key=value: omega-track tag <experiment> <run> team=nlp',
    );
  const tags: Record<string, unknown> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq < 0) throw new TrackingInputError(`tag takes key=value, got '${arg}'`);
    const key = arg.slice(0, eq);
    // defined as own fields, so a key such as __proto__ is a tag like any other
    Object.defineProperty(tags, key, {
      value: tagValue(arg.slice(eq + 1)),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  validateRunMetadata({ tags });
  return tags;
}

/** A run number argument: a whole number of at least 1. */
export function runArg(text: string | undefined, usage: string): number {
  if (text === undefined) throw new TrackingInputError(`name the run: ${usage}`);
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text)))
    throw new TrackingInputError(`a run is a number of at least 1, got '${text}'`);
  return Number(text);
}

/**
 * The provider that writes experiment `name` as configured. Unlike reading, writing through
 * another provider than the experiment's would put the events where its own provider does
 * not look, so a provider that is not registered here is an error.
 */
export async function writerFor(om: Omega, name: string): Promise<TrackingProvider> {
  const { config } = await requireExperiment(om, name);
  if (!om.registry.has(config.provider))
    throw new TrackingError(
      `experiment '${name}' is written by provider '${config.provider}', which is not registered here: ` +
        'load it with --require FILE (a module exporting (registry) => registry.register(…))',
    );
  return om.experiments.createProvider(name, config);
}

/** Fails unless `run` is a run of the experiment `provider` writes (a deleted run is none). */
export async function requireRun(provider: TrackingProvider, run: number): Promise<void> {
  const found = await provider.runs({ run });
  if (!found.some((r) => r.run === run))
    throw new TrackingInputError(`experiment '${provider.experiment}' has no run ${run}`);
}

/** Sets tags on one run: joins it, records the tags, flushes; the run's status stays as it was. */
export const tagCommand: Command = {
  usage: 'omega-track tag <experiment> <run> key=value [key=value …]',
  args: '[experiment] [run] [tags...]',
  summary: 'set tags on a run (values are JSON when they parse, else text)',
  options: {},
  help: [
    '  key=value    a tag; the value is JSON when it parses (0.01, true, "text", [1,2]),',
    '               else the text as given; the latest value of a key wins',
    ...REQUIRE_HELP,
  ],
  // it writes, but only to a run that exists: a mistyped --store is an error, not a new store
  store: 'read',
  async run({ args, out, omega }) {
    const [experiment, runText, ...pairs] = args;
    const usage = 'omega-track tag <experiment> <run> key=value';
    if (experiment === undefined) throw new TrackingInputError(`name the experiment: ${usage}`);
    const run = runArg(runText, usage);
    // all the tags are checked before anything is written: all of them or none
    const tags = parseTagArgs(pairs);
    const provider = await writerFor(await omega(), experiment);
    await requireRun(provider, run);
    // joining a run records nothing and leaves its status alone; stop() is never called
    await provider.use(run);
    try {
      provider.setTags(tags);
      const result = await provider.flush();
      // the command ends here: tags still queued would be lost with it
      if (result && result.pending > 0)
        throw new TrackingError(
          `the store did not take the tags of run ${run} of '${experiment}': they may not be set`,
        );
    } finally {
      provider.releaseRun(run);
    }
    const list = Object.entries(tags).map(([k, v]) => `${k}=${cellText(v)}`);
    out.write(safeLine(`tagged run ${run} of '${experiment}': ${list.join(', ')}`) + '\n');
    return 0;
  },
};
