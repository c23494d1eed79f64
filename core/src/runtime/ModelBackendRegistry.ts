import type { DependencyContainer } from 'tsyringe';
import { childContainer } from '../registry/valueContainer';
import type { ValueContainer } from '../registry/valueContainer';
import { TrackingError } from '../errors/TrackingError';
import { TrackingInputError } from '../errors/TrackingInputError';
import { ModelBackend } from './ModelBackend';
import type { ModelBackendClass } from './ModelBackend';

const KIND = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/** Namespaced tokens, as the provider registry's, so kinds never collide with other registrations. */
function backendToken(kind: string): string {
  return `omega-track:model-backend:${kind}`;
}

/**
 * Model backend classes by model kind (`tfjs.layers`, or a custom kind), kept in a tsyringe child
 * container like the providers, so each `Omega` (and each test) has its own.
 */
export class ModelBackendRegistry {
  private readonly container: ValueContainer;
  // tsyringe cannot list its registrations
  private readonly registered = new Set<string>();

  constructor(parent?: DependencyContainer) {
    this.container = childContainer(parent);
  }

  /** Registers (or replaces) the backend class for models of `kind`. */
  register<M>(kind: string, backendClass: ModelBackendClass<M>): this {
    if (typeof kind !== 'string' || !KIND.test(kind))
      throw new TrackingInputError(
        `model kind '${String(kind)}' must be a letter followed by letters, digits, _ . -`,
      );
    if (typeof backendClass !== 'function' || !(backendClass.prototype instanceof ModelBackend))
      throw new TrackingInputError(`the backend for '${kind}' must be a class extending ModelBackend`);
    this.container.set(backendToken(kind), backendClass);
    this.registered.add(kind);
    return this;
  }

  has(kind: string): boolean {
    return this.registered.has(kind);
  }

  /** The registered kinds, sorted. */
  kinds(): string[] {
    return [...this.registered].sort();
  }

  /** The class for `kind`; a TrackingError naming the kinds there are when none is registered. */
  resolveClass(kind: string): ModelBackendClass {
    if (!this.has(kind))
      throw new TrackingError(
        `no runtime backend runs models of kind '${kind}'; registered kinds: ${this.kinds().join(', ') || 'none'}`,
      );
    return this.container.get<ModelBackendClass>(backendToken(kind));
  }
}
