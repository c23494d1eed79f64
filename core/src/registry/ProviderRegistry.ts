import type { DependencyContainer } from 'tsyringe';
import { childContainer } from './valueContainer';
import type { ValueContainer } from './valueContainer';
import { TrackingInputError } from '../errors/TrackingInputError';
import { UnknownProviderError } from '../errors/UnknownProviderError';
import type { ProviderContext } from '../providers/ProviderContext';
import { TrackingProvider } from '../providers/TrackingProvider';

/** A provider class: anything extending `TrackingProvider` with its constructor. */
/**
 * The provider class registered under each name, for the types only: `om.runtime.experiment(name,
 * { provider: 'profiling' })` is typed as that provider's handle. Packages that register
 * providers add their names by declaration merging (`declare module '@omega-track/core'`).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ProviderTypes {}

export type ProviderClass<P extends TrackingProvider = TrackingProvider> = new (
  experiment: string,
  context: ProviderContext,
) => P;

const NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/** Namespaced tokens, so our names never collide with other users of a shared container. */
function providerToken(name: string): string {
  return `omega-track:provider:${name}`;
}

/**
 * Whether `cls` is a class whose prototype chain holds TrackingProvider's (TrackingProvider itself,
 * being abstract, is not). A second copy of @omega-track/core in node_modules has its own
 * TrackingProvider: a class extending that one is recognized by the name in its chain.
 */
function extendsTrackingProvider(cls: unknown): boolean {
  if (typeof cls !== 'function' || typeof cls.prototype !== 'object' || cls.prototype === null) return false;
  if (cls.prototype instanceof TrackingProvider) return true;
  for (
    let p = Object.getPrototypeOf(cls.prototype);
    p !== null && p !== Object.prototype;
    p = Object.getPrototypeOf(p)
  )
    if ((p as { constructor?: { name?: unknown } }).constructor?.name === 'TrackingProvider') return true;
  return false;
}

function describeClass(cls: unknown): string {
  if (typeof cls === 'function') return cls.name ? `class ${cls.name}` : 'an anonymous class';
  return cls === null ? 'null' : typeof cls;
}

/**
 * Provider classes by name (`default`, `profiling`, `notrack`, `mlflow`, or any custom name),
 * kept in a tsyringe child container so each `Omega` instance (and each test) has its own.
 */
export class ProviderRegistry {
  private readonly container: ValueContainer;
  // tsyringe cannot list its registrations, so the names are kept beside it.
  private readonly registered = new Set<string>();

  constructor(parent?: DependencyContainer) {
    this.container = childContainer(parent);
  }

  /**
   * Registers (or replaces) the provider class used for `name`. A name that is not a letter
   * followed by up to 63 letters, digits, `_ . -`, or a class that does not extend
   * `TrackingProvider`, is a TrackingInputError here rather than a failure at its first use.
   */
  register(name: string, providerClass: ProviderClass): this {
    if (typeof name !== 'string' || !NAME.test(name))
      throw new TrackingInputError(
        `provider name '${String(name)}' must be a letter followed by letters, digits, _ . -`,
      );
    if (!extendsTrackingProvider(providerClass))
      throw new TrackingInputError(
        `provider '${name}' must be registered with a class extending TrackingProvider, got ${describeClass(providerClass)}`,
      );
    this.container.set(providerToken(name), providerClass);
    this.registered.add(name);
    return this;
  }

  /** Whether `name` is registered. */
  has(name: string): boolean {
    return this.registered.has(name) && this.container.has(providerToken(name));
  }

  /** The registered names, sorted. */
  names(): string[] {
    return [...this.registered].sort();
  }

  /** The class registered for `name`; throws UnknownProviderError listing the names there are. */
  resolveClass(name: string): ProviderClass {
    if (!this.has(name)) throw new UnknownProviderError(name, this.names());
    return this.container.get<ProviderClass>(providerToken(name));
  }

  /** A new provider of kind `name` for `experiment`. */
  create(name: string, experiment: string, context: ProviderContext): TrackingProvider {
    const ProviderCtor = this.resolveClass(name);
    return new ProviderCtor(experiment, context);
  }
}
