import { setDiagWriter } from '@omega-track/core';
import { omega } from 'omega-track';
import path from 'node:path';
import { describeProviderContract } from './contract/providerContract';
import { tempDir } from './helpers/tmp';
import { freshDatabaseName, removeAllPostgresServers, startPostgresServer } from './helpers/postgresServer';
import type { PostgresServer } from './helpers/postgresServer';

setDiagWriter(() => undefined);

describeProviderContract(
  'default (sqlite file)',
  async () => {
    const tmp = tempDir();
    const om = omega({ store: `sqlite:${path.join(tmp.dir, 'omega.db')}` });
    return { om, experiment: (name) => om.runtime.experiment(name), cleanup: async () => tmp.cleanup() };
  },
  { records: true },
);

// the PostgreSQL store against a private server of this run, each test in a database of its own
let postgres: Promise<PostgresServer> | undefined;
afterAll(() => removeAllPostgresServers(), 30_000);

describeProviderContract(
  'default (postgres)',
  async () => {
    postgres ??= startPostgresServer();
    const url = await (await postgres).createDatabase(freshDatabaseName());
    const om = omega({ store: url });
    return { om, experiment: (name) => om.runtime.experiment(name), cleanup: async () => undefined };
  },
  { records: true },
);

describeProviderContract(
  'simple (memory)',
  async () => {
    const om = omega({ store: 'memory:' });
    return {
      om,
      experiment: (name) => om.runtime.experiment(name, { provider: 'simple' }),
      cleanup: async () => undefined,
    };
  },
  { records: true },
);

describeProviderContract(
  'notrack',
  async () => {
    const om = omega({ store: 'memory:' });
    return {
      om,
      experiment: (name) => om.runtime.experiment(name, { provider: 'notrack' }),
      cleanup: async () => undefined,
    };
  },
  { records: false },
);
