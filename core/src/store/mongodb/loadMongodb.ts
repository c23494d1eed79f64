import type * as Mongodb from 'mongodb';
import { ProviderPackageNotInstalledError } from '../../errors/ProviderPackageNotInstalledError';

/** The official MongoDB driver (an optional peer of core). */
export type MongodbModule = typeof Mongodb;

/**
 * Loads the `mongodb` driver when a `mongodb://` store is opened, not before: programs on the
 * embedded store never need it. When it is missing, the error says how to install it.
 */
export function loadMongodb(): MongodbModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('mongodb') as MongodbModule;
  } catch (error) {
    // only the driver itself being absent means "install it"; a broken install stays as it is
    if (
      (error as { code?: string }).code === 'MODULE_NOT_FOUND' &&
      String((error as Error).message).includes("'mongodb'")
    )
      throw new ProviderPackageNotInstalledError('The MongoDB store', 'mongodb');
    throw error;
  }
}
