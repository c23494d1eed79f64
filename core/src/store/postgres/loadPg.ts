import type * as Pg from 'pg';
import { ProviderPackageNotInstalledError } from '../../errors/ProviderPackageNotInstalledError';

/** node-postgres (an optional peer of core). */
export type PgModule = typeof Pg;

/**
 * Loads `pg` when a `postgres://` store is opened, not before: programs on the embedded store
 * never need it. When it is missing, the error says how to install it.
 */
export function loadPg(): PgModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('pg') as PgModule;
  } catch (error) {
    // only the driver itself being absent means "install it"; a broken install stays as it is
    if (
      (error as { code?: string }).code === 'MODULE_NOT_FOUND' &&
      String((error as Error).message).includes("'pg'")
    )
      throw new ProviderPackageNotInstalledError('The PostgreSQL store', 'pg');
    throw error;
  }
}
