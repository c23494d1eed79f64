import 'reflect-metadata';
import type { DependencyContainer } from 'tsyringe';
import { container as rootContainer } from 'tsyringe';

/** Values by token in a container of the registry's own: what the registries keep their classes in. */
export interface ValueContainer {
  set(token: string, value: unknown): void;
  get<T>(token: string): T;
  has(token: string): boolean;
}

/**
 * A tsyringe child container of `parent` (default: the root container), so that each `Omega`
 * (and each test) has its own registrations while an application's container can hold shared
 * ones. The browser build replaces this module with a Map: a page needs no container, and
 * tsyringe with its Reflect polyfill would double the browser client's size.
 */
export function childContainer(parent: DependencyContainer = rootContainer): ValueContainer {
  const container = parent.createChildContainer();
  return {
    set: (token, value) => void container.register(token, { useValue: value }),
    get: <T>(token: string) => container.resolve<T>(token),
    has: (token) => container.isRegistered(token, true),
  };
}
