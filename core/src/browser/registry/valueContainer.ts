import type { ValueContainer } from '../../registry/valueContainer';

/**
 * The browser's container of the registries (it replaces core/src/registry/valueContainer.ts):
 * a Map per registry. A page has no tsyringe container to be the child of.
 */
export function childContainer(): ValueContainer {
  const values = new Map<string, unknown>();
  return {
    set: (token, value) => void values.set(token, value),
    get: <T>(token: string) => values.get(token) as T,
    has: (token) => values.has(token),
  };
}
