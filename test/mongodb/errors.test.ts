import net from 'node:net';
import util from 'node:util';
import { MongoBulkWriteError, MongoInvalidArgumentError, MongoNetworkError, MongoServerError } from 'mongodb';
import { StoreError, TrackingError, openStore, setDiagWriter } from '@omega-track/core';
import {
  DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
  MongoStore,
  mongoClientOptions,
  parseMongoUrl,
  scrubMongoSecrets,
  toMongoStoreError,
} from '@omega-track/core/internal';
import type { PendingEvent } from '@omega-track/core';
import type { OmegaSimpleTracker } from 'omega-track';
import { omega } from 'omega-track';
import { runFixture } from '../helpers/child';

setDiagWriter(() => undefined);

/** A loopback port nothing listens on: connecting is refused at once, and no server ever answers. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const start: Omit<PendingEvent, 'run'> = {
  event: 'start',
  key: 'start',
  value: null,
  step: null,
  dt: Date.now(),
  node: 'n',
  userid: 'u',
  extra: undefined,
};

describe('MongoDB URLs: the password is never shown', () => {
  const cases: Array<[url: string, shown: string, secrets: string[]]> = [
    ['mongodb://alice:s3cret@db.example/omega', 'mongodb://alice:***@db.example/omega', ['s3cret']],
    [
      'mongodb+srv://alice:p%40ss%2Fw0rd@cluster0.example.net/runs?retryWrites=true&w=majority',
      'mongodb+srv://alice:***@cluster0.example.net/runs?retryWrites=true&w=majority',
      ['p%40ss%2Fw0rd', 'p@ss/w0rd'],
    ],
    [
      'mongodb://bob:pw-1234@h1:27017,h2:27018,h3/omega?replicaSet=rs0&tls=true',
      'mongodb://bob:***@h1:27017,h2:27018,h3/omega?replicaSet=rs0&tls=true',
      ['pw-1234'],
    ],
    // unescaped characters the driver refuses: still hidden in what we say about the URL
    ['mongodb://carol:a/b:c@db.example/omega', 'mongodb://carol:***@db.example/omega', ['a/b:c']],
    ['mongodb://erin:q?uery@db.example/omega', 'mongodb://***@db.example/omega', ['q?uery']],
    [
      'mongodb://db.example/omega?tls=true&tlsCertificateKeyFilePassword=keypass99',
      'mongodb://db.example/omega?tls=true&tlsCertificateKeyFilePassword=***',
      ['keypass99'],
    ],
    [
      'mongodb://AKIA:sekrit-key@db.example/omega?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:tok3n-value',
      'mongodb://AKIA:***@db.example/omega?authMechanism=MONGODB-AWS&authMechanismProperties=***',
      ['sekrit-key', 'tok3n-value'],
    ],
  ];

  test.each(cases)('%s', (url, shown, secrets) => {
    const parsed = parseMongoUrl(url);
    expect(parsed.display).toBe(shown);
    for (const secret of secrets) {
      expect(parsed.display).not.toContain(secret);
      // a driver message that quotes the URL, or the password alone, is scrubbed
      const scrubbed = scrubMongoSecrets(`failed for ${url}: bad password ${secret}`, parsed);
      expect(scrubbed).not.toContain(secret);
    }
  });

  test('the database is the URL’s path, else omega; the timeout and app name are set unless the URL sets them', () => {
    expect(parseMongoUrl('mongodb://h').database).toBe('omega');
    expect(parseMongoUrl('mongodb://h/').database).toBe('omega');
    expect(parseMongoUrl('mongodb://u:p@h1,h2/runs_db?replicaSet=rs').database).toBe('runs_db');
    expect(mongoClientOptions(parseMongoUrl('mongodb://h/x'))).toEqual({
      ignoreUndefined: true,
      serverSelectionTimeoutMS: DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
      // a selected server that stops answering fails the operation instead of hanging it
      socketTimeoutMS: 60_000,
      appName: 'omega-track',
    });
    expect(DEFAULT_SERVER_SELECTION_TIMEOUT_MS).toBe(5000);
    expect(
      mongoClientOptions(
        parseMongoUrl('mongodb://h/x?ServerSelectionTimeoutMS=800&appname=mine&socketTimeoutMS=9000'),
      ),
    ).toEqual({
      ignoreUndefined: true,
    });
  });

  test('URLs that cannot be used are a StoreError invalid-url, password hidden', () => {
    const bad = [
      'mongodb://alice:s3cret-pw@/omega',
      'mongodb://alice:s3cret-pw@h/bad.name',
      'mongodb://alice:s3cret-pw@h/omega?maxPoolSize=lots',
      'mongodb://alice:s3cret-pw@h/omega?notAnOption=1',
      'mongodb://alice:s3cret-pw@h:99999/omega',
      'mongodb://alice:s3/cret-pw@h/omega',
      // an unescaped '@': the driver would take the part after it for a host and name it in errors
      'mongodb://alice:s3@cret-pw@h/omega',
      'mongodb://alice:s3cret-pw:x@y@h/omega',
      'mongodb+srv://alice:s3cret-pw@h1,h2/omega',
    ];
    for (const url of bad) {
      let error: unknown;
      try {
        openStore(url);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('invalid-url');
      expect((error as Error).message).not.toMatch(/s3[/@]?cret-pw|cret-pw/);
      expect((error as StoreError).location).not.toMatch(/s3[/@]?cret-pw|cret-pw/);
    }
  });

  test('the store shows its URL without the password, and neither inspecting nor serializing it shows one', async () => {
    const store = openStore('mongodb://alice:s3cret-pw@127.0.0.1:1/omega');
    try {
      expect(store).toBeInstanceOf(MongoStore);
      expect(store.url).toBe('mongodb://alice:***@127.0.0.1:1/omega');
      expect(util.inspect(store, { depth: 10, showHidden: true })).not.toContain('s3cret-pw');
      expect(JSON.stringify(store)).not.toContain('s3cret-pw');
    } finally {
      await store.close();
    }
  });
});

describe('driver errors as StoreErrors', () => {
  const url = parseMongoUrl('mongodb://alice:s3cret-pw@db.example:27017/omega');
  const opts = { timeoutMs: 5000 };

  test('each kind of failure has its code and says what to do; no message holds the password', () => {
    const cases: Array<[unknown, string, RegExp, boolean?]> = [
      [
        new MongoServerError({
          errmsg: 'Authentication failed.',
          code: 18,
          codeName: 'AuthenticationFailed',
        }),
        'cannot-open',
        /check the user and password in the URL \(not shown here\)/,
      ],
      [
        new MongoServerError({
          errmsg: 'not authorized on omega to execute command { insert: ... }',
          code: 13,
        }),
        'read-only',
        /readWrite role/,
        true,
      ],
      [
        new MongoServerError({
          errmsg: 'not authorized on omega to execute command { find: ... }',
          code: 13,
        }),
        'cannot-open',
        /read \(or readWrite\) role/,
      ],
      [
        new MongoServerError({ errmsg: 'you are over your space quota', code: 8000 }),
        'disk-full',
        /no room left/,
        true,
      ],
      [
        new MongoServerError({ errmsg: 'not primary', code: 10107 }),
        'io',
        /changing its primary; writes are retried/,
        true,
      ],
      [
        new MongoNetworkError('connection to mongodb://alice:s3cret-pw@db.example:27017/omega closed'),
        'io',
        /connection to the server was lost/,
      ],
      [
        new MongoBulkWriteError(
          {
            message: 'write failed',
            code: 14031,
            writeErrors: [
              { code: 11000, errmsg: 'E11000 duplicate key', index: 0 },
              { code: 14031, errmsg: 'out of disk space', index: 1 },
            ],
          } as never,
          {} as never,
        ),
        'disk-full',
        /\(out of disk space\)/,
        true,
      ],
      // a network failure during a bulk write comes wrapped in a MongoBulkWriteError
      [
        new MongoBulkWriteError(new MongoNetworkError('connection 4 closed'), {} as never),
        'io',
        /\(connection 4 closed\): the connection to the server was lost/,
        true,
      ],
      // an event over 16 MB: refused for good (the provider drops it and writes the rest), not a bad URL
      [
        new MongoInvalidArgumentError('Document is larger than the maximum size 16777216'),
        'too-big',
        /larger than MongoDB takes \(16 MB\): retrying cannot help/,
        true,
      ],
      [
        new MongoServerError({
          errmsg: 'object to insert too large',
          code: 10334,
          codeName: 'BSONObjectTooLarge',
        }),
        'too-big',
        /retrying cannot help/,
        true,
      ],
      [new Error('something else with s3cret-pw in it'), 'io', /reason is in parentheses/],
    ];
    for (const [raw, code, advice, write] of cases) {
      const error = toMongoStoreError(raw, url, "writing events of 'e'", { ...opts, write });
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe(code);
      expect(error.message).toMatch(advice);
      expect(error.message).toMatch(
        /^store mongodb:\/\/alice:\*\*\*@db\.example:27017\/omega: writing events of 'e' failed/,
      );
      expect(error.message).not.toContain('s3cret-pw');
      // the driver's error, kept as the cause, is scrubbed too
      expect(String((error as { cause?: Error }).cause?.message)).not.toContain('s3cret-pw');
    }
    // omega-track's own errors stay as they are
    const own = new TrackingError('mine');
    expect(toMongoStoreError(own, url, 'x', opts)).toBe(own);
  });
});

describe('a MongoDB server that does not answer', () => {
  test('every kind of operation fails within the URL’s selection timeout with a clear StoreError', async () => {
    const port = await closedPort();
    const store = openStore(`mongodb://alice:s3cret-pw@127.0.0.1:${port}/omega?serverSelectionTimeoutMS=800`);
    const shown = `mongodb://alice:***@127.0.0.1:${port}/omega?serverSelectionTimeoutMS=800`;
    const iterate = async (): Promise<void> => {
      for await (const batch of store.iterateEvents('e', {}, 10)) void batch;
    };
    const operations: Array<[string, () => Promise<unknown>]> = [
      ['reading', () => store.getEntry('models', 'experiments/e')],
      ['starting a run', () => store.startRun('e', start)],
      [
        'writing events',
        () => store.appendEvents('e', [{ ...start, run: 1, event: 'metric', key: 'm', value: 1 }]),
      ],
      ['reading events', () => store.queryEvents('e', {})],
      ['reading events', iterate],
      ['saving a blob', () => store.putBlob('.experiments/e/1', Buffer.from('x'))],
      ['reading a blob', () => store.getBlob('.experiments/e/1')],
      ['reading the runs', () => store.runStats!('e')],
      // the last writes of an exiting process go through a child process, waited for
      [
        "writing events of 'e' at exit",
        async () =>
          store.appendEventsSync!('e', [{ ...start, run: 1, event: 'metric', key: 'm', value: NaN }]),
      ],
    ];
    try {
      for (const [doing, operation] of operations) {
        let error: unknown;
        try {
          await operation();
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(StoreError);
        expect((error as StoreError).code).toBe('cannot-open');
        expect((error as StoreError).location).toBe(shown);
        const message = (error as Error).message;
        expect(message).toContain(`store ${shown}: ${doing}`);
        expect(message).toContain('no MongoDB server answered within 0.8 s (serverSelectionTimeoutMS)');
        expect(message).not.toContain('s3cret-pw');
      }
    } finally {
      await store.close();
    }
  });

  test('without a timeout in the URL the store waits 5 s, not the driver’s 30 s, and says so', async () => {
    const port = await closedPort();
    const store = openStore(`mongodb://127.0.0.1:${port}/omega`);
    try {
      await expect(store.latestRun('e')).rejects.toThrow(
        /no MongoDB server answered within 5 s \(serverSelectionTimeoutMS\)/,
      );
    } finally {
      await store.close();
    }
  });

  test('through omega(): start() rejects with the StoreError; a reading store says cannot-open, not not-found', async () => {
    const port = await closedPort();
    const url = `mongodb://alice:s3cret-pw@127.0.0.1:${port}/omega?serverSelectionTimeoutMS=500`;
    const errors: unknown[] = [];
    const om = omega({ store: url, onError: (e) => errors.push(e) });
    try {
      const exp = om.runtime.experiment('unreachable');
      const failure = await exp.start().catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(StoreError);
      expect((failure as Error).message).toMatch(/no MongoDB server answered within 0\.5 s/);
      expect((failure as Error).message).not.toContain('s3cret-pw');
    } finally {
      await om.close();
    }
    for (const e of errors) expect(String((e as Error).message)).not.toContain('s3cret-pw');
    const reader = openStore(url, { create: false });
    try {
      await expect(reader.listEntries('models')).rejects.toMatchObject({ code: 'cannot-open' });
    } finally {
      await reader.close();
    }
  });

  test('a setting or a log call before the configuration is read says what to await, and touches nothing', async () => {
    const url = `mongodb://alice:s3cret-pw@127.0.0.1:${await closedPort()}/omega?serverSelectionTimeoutMS=500`;
    const om = omega({ store: url });
    try {
      const exp = om.runtime.experiment<OmegaSimpleTracker>('early');
      for (const early of [() => (exp.maxBuffer = 5), () => exp.logMetric('loss', 1), () => exp.currentRun]) {
        let error: unknown;
        try {
          early();
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(TrackingError);
        expect((error as Error).message).toMatch(
          /^experiment 'early' is not open yet: store mongodb:\/\/alice:\*\*\*@.* reads its configuration asynchronously, so await one of start\(\)/,
        );
        expect((error as Error).message).not.toContain('s3cret-pw');
      }
    } finally {
      await om.close();
    }
  });
});

describe('exiting with a write under way', () => {
  test('the exit hook tries it once more, within the timeout, and says what was lost and why', async () => {
    const port = await closedPort();
    const url = `mongodb://alice:s3cret-pw@127.0.0.1:${port}/omega?serverSelectionTimeoutMS=500`;
    const { code, stderr } = await runFixture('../mongodb/fixtures/exitWithWrite.js', [], {
      OMEGA_TEST_MONGODB_URL: url,
    });
    expect(code).toBe(0);
    expect(stderr).toContain(
      `2 event(s) of experiment 'e' could not be written before exit and are lost: store mongodb://alice:***@127.0.0.1:${port}/omega?serverSelectionTimeoutMS=500: writing events of 'e' at exit failed`,
    );
    expect(stderr).toContain('no MongoDB server answered within 0.5 s');
    expect(stderr).not.toContain('s3cret-pw');
  });
});

describe('without the mongodb package', () => {
  test('the embedded store works, and a mongodb:// store says how to install the driver', async () => {
    const { stdout } = await runFixture('withoutPackage.js', [
      'mongodb',
      'mongodb://alice:s3cret-pw@127.0.0.1:1/omega',
      'mongodb',
    ]);
    expect(JSON.parse(stdout)).toEqual({
      memory: 3,
      mongodb: {
        name: 'ProviderPackageNotInstalledError',
        message:
          "The MongoDB store needs the package 'mongodb', which is not installed. Run: npm install mongodb",
        packageName: 'mongodb',
      },
    });
  });
});
