import 'reflect-metadata';
import type { DependencyContainer } from 'tsyringe';
import { container as rootContainer } from 'tsyringe';
import { TrackingInputError } from '../errors/TrackingInputError';
import { UnknownProviderError } from '../errors/UnknownProviderError';
import type { ProviderContext } from '../providers/ProviderContext';
import type { TrackingProvider } from '../providers/TrackingProvider';

/** A provider class: anything extending `TrackingProvider` with its constructor. */
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
 * Provider classes by name (`default`, `profiling`, `notrack`, `mlflow`, or any custom name),
 * kept in a tsyringe child container so each `Omega` instance (and each test) has its own.
 */
export class ProviderRegistry {
  private readonly container: DependencyContainer;
  // tsyringe cannot list its registrations, so the names are kept beside it.
  private readonly registered = new Set<string>();

  constructor(parent: DependencyContainer = rootContainer) {
    this.container = parent.createChildContainer();
  }

  /** Registers (or replaces) the provider class used for `name`. */
  register(name: string, providerClass: ProviderClass): this {
    if (typeof name !== 'string' || !NAME.test(name))
      throw new TrackingInputError(
        `provider name '${String(name)}' must be a letter followed by letters, digits, _ . -`,
      );
    if (typeof providerClass !== 'function')
      throw new TrackingInputError(
        `provider '${name}' must be registered with a class extending TrackingProvider`,
      );
    this.container.register(providerToken(name), { useValue: providerClass });
    this.registered.add(name);
    return this;
  }

  /** Whether `name` is registered. */
  has(name: string): boolean {
    return this.registered.has(name) && this.container.isRegistered(providerToken(name), true);
  }

  /** The registered names, sorted. */
  names(): string[] {
    return [...this.registered].sort();
  }

  /** The class registered for `name`; throws UnknownProviderError listing the names there are. */
  resolveClass(name: string): ProviderClass {
    if (!this.has(name)) throw new UnknownProviderError(name, this.names());
    return this.container.resolve<ProviderClass>(providerToken(name));
  }

  /** A new provider of kind `name` for `experiment`. */
  create(name: string, experiment: string, context: ProviderContext): TrackingProvider {
    const ProviderCtor = this.resolveClass(name);
    return new ProviderCtor(experiment, context);
  }
}
