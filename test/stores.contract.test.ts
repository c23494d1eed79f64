import path from 'node:path';
import { openStore } from '@omega-track/core';
import { SqliteStore } from '@omega-track/core/internal';
import { describeStoreContract } from './contract/storeContract';
import { tempDir } from './helpers/tmp';
import { freshDatabaseName, removeAllPostgresServers, startPostgresServer } from './helpers/postgresServer';
import type { PostgresServer } from './helpers/postgresServer';

describeStoreContract('sqlite file', async () => {
  const tmp = tempDir();
  return {
    store: openStore(`sqlite:${path.join(tmp.dir, 'sub', 'omega.db')}`),
    cleanup: async () => tmp.cleanup(),
  };
});

// the PostgreSQL store against a private server of this run (initdb into a temporary folder),
// each test in a database of its own
let postgres: Promise<PostgresServer> | undefined;
afterAll(() => removeAllPostgresServers(), 30_000);

describeStoreContract('postgres', async () => {
  postgres ??= startPostgresServer();
  const url = await (await postgres).createDatabase(freshDatabaseName());
  return { store: openStore(url), cleanup: async () => undefined };
});

describeStoreContract('memory', async () => ({
  store: openStore('memory:'),
  cleanup: async () => undefined,
}));

describe('openStore', () => {
  test('memory: is an in-memory SQLite store and unknown URLs are refused by name', () => {
    const store = openStore('memory:');
    expect(store).toBeInstanceOf(SqliteStore);
    expect(store.url).toBe('memory:');
    void store.close();
    expect(() => openStore('ftp://user:secret@host/x')).toThrow(
      /unknown store URL 'ftp:\/\/user:\*\*\*@host\/x'/,
    );
    expect(() => openStore('sqlite:')).toThrow(/names no file/);
  });
});
