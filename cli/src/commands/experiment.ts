/** Finding an experiment and the provider that reads it; loading the user's provider registrations. */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ExperimentConfig, Omega, ProviderRegistry, TrackingProvider } from '@omega-track/core';
import { TrackingError, TrackingInputError } from '@omega-track/core';
import type { CliIO } from './command';
import { safeLine } from './output';

/** The stored configuration of experiment `name`; a `TrackingInputError` listing the others when there is none. */
export async function requireExperiment(
  om: Omega,
  name: string | undefined,
): Promise<{ name: string; config: ExperimentConfig }> {
  if (!name) throw new TrackingInputError('name the experiment: omega-track <command> <experiment>');
  const config = await om.experiments.get(name);
  if (!config) {
    const names = await om.experiments.list();
    throw new TrackingInputError(
      `no experiment '${name}'${names.length ? `; there are: ${names.join(', ')}` : ''}`,
    );
  }
  return { name, config };
}

/**
 * A provider that reads experiment `name`, without changing its stored configuration. When the
 * provider that wrote it is not registered here (a custom one, and no `--require`), its events
 * are read from the store with the default reader, and stderr says which provider wrote it.
 */
export async function readerFor(
  om: Omega,
  name: string,
  config: ExperimentConfig,
  io: CliIO,
): Promise<TrackingProvider> {
  if (om.registry.has(config.provider)) return om.experiments.createProvider(name, config);
  const load = 'load it with --require FILE (a module exporting (registry) => registry.register(…))';
  if ((await om.store.latestRun(name)) === undefined)
    throw new TrackingError(
      `experiment '${name}' was written by provider '${config.provider}', which is not registered here, ` +
        `and the store holds none of its events: ${load}`,
    );
  io.stderr(
    safeLine(
      `omega-track: experiment '${name}' was written by provider '${config.provider}', which is not ` +
        `registered here; reading its events from the store (to read it through its provider, ${load})`,
    ) + '\n',
  );
  // the options belong to the other provider; the stored configuration is left as it is
  return om.experiments.createProvider(name, { provider: 'default', options: {} });
}

type Registrar = (registry: ProviderRegistry, om: Omega) => unknown;

function isClass(fn: unknown): boolean {
  return typeof fn === 'function' && /^class\b/.test(Function.prototype.toString.call(fn));
}

/** The registration function a `--require` module exports: itself, `register`, or `default`. */
function registrarOf(mod: unknown): Registrar | undefined {
  const m = mod as { register?: unknown; default?: unknown } | null | undefined;
  for (const candidate of [m?.register, m?.default, mod])
    if (typeof candidate === 'function' && !isClass(candidate)) return candidate as Registrar;
  return undefined;
}

/**
 * Whether `error`, thrown by requiring `file`, says that the file did not compile: a SyntaxError
 * that no code of the file threw (that one has a frame in the file; one of compiling has none).
 */
function notCompiled(error: unknown, file: string): boolean {
  // by name, not instanceof: under a test runner the error may come from another realm
  const { name, stack } = (error ?? {}) as { name?: unknown; stack?: unknown };
  if (name !== 'SyntaxError') return false;
  return !(typeof stack === 'string' ? stack : '')
    .split('\n')
    .some((line) => /^\s+at /.test(line) && line.includes(file));
}

/**
 * Loads each `--require` module (a path relative to the working directory, or a package name)
 * and calls the function it exports with `om.registry` and `om`, so the command can use the providers
 * (and runtime model backends, `om.runtime.registerBackend`) it
 * registers. A module is CommonJS: `module.exports = (registry) => …` or `exports.register = …`.
 */
export async function loadRegistrations(om: Omega, specs: readonly string[]): Promise<void> {
  const cwd = process.cwd();
  const requireHere = createRequire(path.join(cwd, 'omega-track-require.js'));
  for (const spec of specs) {
    const local = spec.startsWith('.') || path.isAbsolute(spec);
    let file: string;
    try {
      file = requireHere.resolve(local ? path.resolve(cwd, spec) : spec);
    } catch {
      throw new TrackingInputError(`--require ${spec}: no such module (looked from ${cwd})`);
    }
    let mod: unknown;
    try {
      mod = requireHere(file);
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_REQUIRE_ESM')
        throw new TrackingInputError(
          `--require ${spec} is an ES module; this Node.js loads CommonJS ones here: use a .cjs file`,
        );
      // a file that does not compile (a config file, /etc/passwd): its text is in the error's
      // message and stack, so neither is shown, not even with OMEGA_DEBUG
      if (notCompiled(error, file))
        throw new TrackingInputError(
          `could not load registrations from ${file}: not a JavaScript module (--require ${spec})`,
        );
      throw error;
    }
    const register = registrarOf(mod);
    if (!register)
      throw new TrackingInputError(
        `--require ${spec} exports no registration function: use module.exports = (registry) => ` +
          `registry.register('mine', MyTracker), or export a function register(registry)`,
      );
    await register(om.registry, om);
  }
}
