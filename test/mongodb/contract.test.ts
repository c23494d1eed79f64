import crypto from 'node:crypto';
import { MongoClient } from 'mongodb';
import { StoreError, openStore, setDiagWriter } from '@omega-track/core';
import {
  MONGO_BLOB_BUCKET,
  MONGO_COLLECTIONS,
  artifactBlobPrefix,
  mongoEventsCollection,
  parseMongoUrl,
  parseRunFilter,
} from '@omega-track/core/internal';
import type { PendingEvent } from '@omega-track/core';
import type { MongoStore } from '@omega-track/core/internal';
import { omega } from 'omega-track';
import { describeProviderContract } from '../contract/providerContract';
import { describeStoreContract } from '../contract/storeContract';
import { runFixture } from '../helpers/child';

// The store and provider contract suites, and what only many processes or big blobs show,
// against a real MongoDB server: MONGODB_URL (e.g. mongodb://127.0.0.1:27017). Each store opened
// here gets a database of its own, dropped afterwards. Without MONGODB_URL nothing here can run
// (no MongoDB server can be installed on these machines): one test says so, and why.

const MONGODB_URL = process.env.MONGODB_URL;

/** The reason the suites did not run, as printed. */
const SKIP_REASON =
  'MONGODB_URL is not set: the MongoDB store and provider contract suites, the 4-process run-number race, ' +
  'the 10 MiB GridFS round trip and the drop checks were skipped (they need a MongoDB server, e.g. ' +
  'MONGODB_URL=mongodb://127.0.0.1:27017). The tests of test/mongodb/ that need no server ran.';

/**
 * `url` with its database replaced by `database`. Credentials keep being checked where the URL
 * had them checked (its database, else admin): MongoDB authenticates against the URL's
 * database unless authSource says otherwise.
 */
function withDatabase(url: string, database: string): string {
  const scheme = url.startsWith('mongodb+srv://') ? 'mongodb+srv://' : 'mongodb://';
  const rest = url.slice(scheme.length);
  const q = rest.indexOf('?');
  const head = q < 0 ? rest : rest.slice(0, q);
  let query = q < 0 ? '' : rest.slice(q + 1);
  const at = head.lastIndexOf('@');
  const userinfo = at < 0 ? '' : head.slice(0, at + 1);
  const hostsAndPath = head.slice(at + 1);
  const slash = hostsAndPath.indexOf('/');
  const hosts = slash < 0 ? hostsAndPath : hostsAndPath.slice(0, slash);
  const own = slash >= 0 ? hostsAndPath.slice(slash + 1) : '';
  if (userinfo && !/(^|&)authSource=/i.test(query))
    query = [query, `authSource=${own || 'admin'}`].filter(Boolean).join('&');
  return `${scheme}${userinfo}${hosts}/${database}${query ? `?${query}` : ''}`;
}

let databases = 0;
/** A database name no earlier run used. */
function freshDatabase(): string {
  return `omega_test_${process.pid}_${Date.now().toString(36)}_${++databases}`;
}

async function dropDatabase(url: string): Promise<void> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.db().dropDatabase();
  } finally {
    await client.close();
  }
}

/** A driver client on the store's database, for looking at what the store wrote. */
async function inspect<T>(url: string, look: (db: ReturnType<MongoClient['db']>) => Promise<T>): Promise<T> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  try {
    return await look(client.db());
  } finally {
    await client.close();
  }
}

const start: Omit<PendingEvent, 'run'> = {
  event: 'start',
  key: 'start',
  value: null,
  step: null,
  dt: Date.now(),
  node: 'n1',
  userid: 'u1',
  extra: undefined,
};

if (MONGODB_URL) {
  setDiagWriter(() => undefined);
  const server = MONGODB_URL;

  describeStoreContract('mongodb', async () => {
    const url = withDatabase(server, freshDatabase());
    return { store: openStore(url), cleanup: () => dropDatabase(url) };
  });

  describeProviderContract(
    'default (mongodb)',
    async () => {
      const url = withDatabase(server, freshDatabase());
      const om = omega({ store: url });
      return { om, experiment: (name) => om.runtime.experiment(name), cleanup: () => dropDatabase(url) };
    },
    { records: true },
  );

  describe('the MongoDB store with a server', () => {
    let url: string;
    beforeEach(() => {
      url = withDatabase(server, freshDatabase());
    });
    afterEach(async () => {
      await dropDatabase(url);
    });

    test('4 processes starting 25 runs each at once get 100 distinct run numbers', async () => {
      const outputs = await Promise.all(
        [1, 2, 3, 4].map(() =>
          runFixture('startRunsOfEnvStore.js', ['race', '25'], { OMEGA_TEST_STORE: url }),
        ),
      );
      for (const o of outputs) expect(o.stderr).toBe('');
      const runs = outputs.flatMap((o) => JSON.parse(o.stdout) as number[]).sort((a, b) => a - b);
      expect(runs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      const store = openStore(url);
      try {
        expect(await store.latestRun('race')).toBe(100);
        expect((await store.queryEvents('race', { events: ['start'] })).length).toBe(100);
        expect((await store.runStats!('race')).rows.filter((r) => r.event === 'start').length).toBe(100);
      } finally {
        await store.close();
      }
    });

    test('a 10 MiB artifact round-trips through GridFS', async () => {
      const om = omega({ store: url });
      try {
        const big = crypto.randomBytes(10 * 1024 * 1024);
        const exp = om.runtime.experiment('weights');
        await exp.run((e) => e.logArtifact(big, 'blob'));
        const restored = (await exp.restoreArtifact('blob')) as Buffer;
        expect(Buffer.isBuffer(restored)).toBe(true);
        expect(restored.length).toBe(big.length);
        expect(restored.equals(big)).toBe(true);
        const files = await inspect(url, (db) =>
          db.collection(`${MONGO_BLOB_BUCKET}.files`).find({}).toArray(),
        );
        expect(files).toHaveLength(1);
        expect(files[0]).toMatchObject({ length: big.length });
        expect(String(files[0].filename).startsWith(artifactBlobPrefix('weights'))).toBe(true);
        // replacing a blob keeps one version of it
        await om.store.putBlob(String(files[0].filename), Buffer.from('small'));
        expect((await om.store.getBlob(String(files[0].filename)))?.toString()).toBe('small');
        expect(
          await inspect(url, (db) => db.collection(`${MONGO_BLOB_BUCKET}.files`).countDocuments({})),
        ).toBe(1);
      } finally {
        await om.close();
      }
    });

    test('dropping an experiment removes its events, counter, aggregates and blobs', async () => {
      const om = omega({ store: url });
      try {
        const exp = om.runtime.experiment('doomed');
        await exp.run((e) => {
          e.logMetric('loss', 1);
          e.logArtifact(crypto.randomBytes(300 * 1024), 'raw');
        });
        const keep = om.runtime.experiment('kept');
        await keep.run((e) => e.logMetric('loss', 2));
        const collection = mongoEventsCollection(parseMongoUrl(url).database, 'doomed');
        const before = await inspect(url, async (db) => ({
          collections: (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name),
          blobs: await db.collection(`${MONGO_BLOB_BUCKET}.files`).countDocuments({}),
        }));
        expect(before.collections).toContain(collection);
        expect(before.blobs).toBe(1);
        expect(await om.experiments.drop('doomed', { force: true })).toBe(true);
        const after = await inspect(url, async (db) => ({
          collections: (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name),
          counter: await db.collection(MONGO_COLLECTIONS.counters).findOne({ _id: 'doomed' as never }),
          stats: await db.collection(MONGO_COLLECTIONS.stats).countDocuments({ experiment: 'doomed' }),
          blobs: await db.collection(`${MONGO_BLOB_BUCKET}.files`).countDocuments({}),
          chunks: await db.collection(`${MONGO_BLOB_BUCKET}.chunks`).countDocuments({}),
          keptStats: await db.collection(MONGO_COLLECTIONS.stats).countDocuments({ experiment: 'kept' }),
        }));
        expect(after.collections).not.toContain(collection);
        expect(after.counter).toBeNull();
        expect(after.stats).toBe(0);
        expect(after.blobs).toBe(0);
        expect(after.chunks).toBe(0);
        expect(after.keptStats).toBeGreaterThan(0);
        expect(await om.runtime.experiment('doomed').start()).toBe(1);
        expect((await keep.data({ run: 'all' })).length).toBe(3);
      } finally {
        await om.close();
      }
    });

    test('runs() reads the aggregates; runsMatching narrows to a superset of the filter’s runs', async () => {
      const om = omega({ store: url });
      try {
        const exp = om.runtime.experiment('search');
        for (let r = 1; r <= 5; r++)
          await exp.run((e) => {
            for (let s = 0; s < 4; s++) e.logMetric('acc', r / 10 + s / 100, s);
            e.logParam('lr', r === 2 ? '0.01' : 0.1 * r);
            e.setTag('team', r % 2 ? 'a' : 'b');
          });
        const runs = await exp.runs();
        expect(runs.map((r) => r.status)).toEqual(['STOPPED', 'STOPPED', 'STOPPED', 'STOPPED', 'STOPPED']);
        expect(runs[2].metrics?.acc).toEqual({
          last: 3 / 10 + 3 / 100,
          step: 3,
          min: 3 / 10,
          max: 3 / 10 + 3 / 100,
          count: 4,
        });
        const store = om.store as MongoStore;
        for (const text of [
          'metrics.acc > 0.25',
          "params.lr = '0.01'",
          "tags.team = 'a' and attributes.run >= 2",
        ]) {
          const exact = (await exp.runs({ filter: text })).map((r) => r.run);
          const candidates = (await store.runsMatching('search', parseRunFilter(text))) ?? [1, 2, 3, 4, 5];
          expect(candidates).toEqual(expect.arrayContaining(exact));
        }
        expect(await store.runsMatching('search', parseRunFilter('metrics.acc > 0.25'))).toEqual([3, 4, 5]);
        expect(
          await store.runsMatching('search', parseRunFilter("attributes.status = 'FINISHED'")),
        ).toBeUndefined();
      } finally {
        await om.close();
      }
    });

    test('deleteRun keeps the number taken; heartbeats and change marks', async () => {
      const store = openStore(url);
      try {
        expect(await store.startRun('e', start)).toBe(1);
        expect(await store.startRun('e', start)).toBe(2);
        await store.appendEvents('e', [{ ...start, run: 2, event: 'metric', key: 'm', value: 1 }]);
        const mark = await store.changeMark!('e');
        expect(mark.runs).toBe(2);
        expect(await store.deleteRun!('e', 2)).toBe(2);
        expect(await store.latestRun('e')).toBe(2);
        expect(await store.startRun('e', start)).toBe(3);
        expect((await store.changeMark!('e')).mark).not.toBe(mark.mark);
        await store.beat!('e', [1, 3], 'pid-1', 10_000);
        await store.beat!('e', [3], 'pid-2', 20_000);
        const alive = await store.liveness!('e');
        expect([...alive.keys()].sort()).toEqual([1, 3]);
        expect(alive.get(3)?.intervalMs).toBe(20_000);
      } finally {
        await store.close();
      }
    });

    test('an index made by hand with other options is left as it is; the others are made', async () => {
      // the dt index, as someone made it by hand beforehand: same name, other keys
      await inspect(url, (db) =>
        db.collection('omega..experiments/e').createIndex({ dt: -1 }, { name: 'dt' }),
      );
      const store = openStore(url);
      try {
        await store.appendEvents('e', [{ ...start, run: 1, event: 'metric', key: 'm', value: 1 }]);
        expect((await store.queryEvents('e', {})).length).toBe(1);
      } finally {
        await store.close();
      }
      const names = await inspect(url, async (db) =>
        (await db.collection('omega..experiments/e').indexes()).map((i) => String(i.name)).sort(),
      );
      expect(names).toEqual(['_id_', 'dt', 'event_key_run', 'extra', 'latest_start', 'run_dt']);
    });

    test('reading code on a database without a store gets not-found, and creates nothing', async () => {
      const reader = openStore(url, { create: false });
      try {
        const error = await reader.listEntries('models').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreError);
        expect((error as StoreError).code).toBe('not-found');
      } finally {
        await reader.close();
      }
      const collections = await inspect(url, (db) => db.listCollections({}, { nameOnly: true }).toArray());
      expect(collections).toEqual([]);
    });
  });
} else {
  describe('the MongoDB contract suites', () => {
    test('are skipped without MONGODB_URL, and say so and why', () => {
      const printed: string[] = [];
      const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
        printed.push(args.join(' '));
        process.stdout.write(`${args.join(' ')}\n`);
      });
      try {
        console.log(SKIP_REASON);
      } finally {
        log.mockRestore();
      }
      expect(printed).toEqual([SKIP_REASON]);
      expect(printed[0]).toMatch(/^MONGODB_URL is not set: .* were skipped \(they need a MongoDB server/);
    });
  });
}
