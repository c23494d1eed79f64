import { spawnSync } from 'node:child_process';

/**
 * The last writes of a process that is exiting (`process.on('exit')`, a signal): no promise can
 * settle there, so the MongoDB store hands the events to a short-lived Node process and waits
 * for it synchronously. The URL (with its password) goes through the child's standard input,
 * never its command line or environment; the documents and updates go as canonical Extended
 * JSON, which keeps ObjectIds, Dates and non-finite numbers.
 */
export interface ExitWrite {
  /** The driver's entry file, as this process resolved it. */
  driver: string;
  url: string;
  options: Record<string, unknown>;
  /** Extended JSON of `{ database, events, stats, docs, ops }`. */
  payload: string;
}

/**
 * The child's program: insert the events (duplicates of an earlier attempt are fine), fold the
 * aggregates (an aggregate that holds the batch already, or a lost insert race, is updated
 * without upsert, as MongoStore does), report a failure on stderr as JSON, exit.
 */
const EXIT_WRITER = `
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', async () => {
  const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const m = require(input.driver);
  const p = m.BSON.EJSON.parse(input.payload);
  const client = new m.MongoClient(input.url, input.options);
  const dups = (e) => e && e.name === 'MongoBulkWriteError' && !(e.result && e.result.getWriteConcernError && e.result.getWriteConcernError()) && [].concat(e.writeErrors || []).length > 0 &&
    [].concat(e.writeErrors).every((w) => w.code === 11000);
  try {
    const db = client.db(p.database);
    try {
      await db.collection(p.events).insertMany(p.docs, { ordered: false });
    } catch (e) {
      if (!dups(e)) throw e;
    }
    if (p.ops.length) {
      try {
        await db.collection(p.stats).bulkWrite(p.ops, { ordered: false });
      } catch (e) {
        if (!dups(e)) throw e;
        const again = [].concat(e.writeErrors).map((w) => p.ops[w.index]).filter(Boolean)
          .map((op) => ({ updateOne: Object.assign({}, op.updateOne, { upsert: false }) }));
        if (again.length) await db.collection(p.stats).bulkWrite(again, { ordered: false });
      }
    }
    await client.close();
    process.exit(0);
  } catch (e) {
    process.stderr.write(JSON.stringify({ name: e && e.name, code: e && e.code, message: String(e && e.message) }));
    await client.close().catch(() => undefined);
    process.exit(1);
  }
});
`;

/** What the child reported when it failed: an error-like object, for toMongoStoreError. */
export type ExitWriteFailure = Error & { code?: unknown };

/**
 * Runs the exit write and waits for it, at most `timeoutMs`. Returns undefined when it wrote,
 * else the failure (the child's error, a timeout, or a child that could not start).
 */
export function runExitWrite(write: ExitWrite, timeoutMs: number): ExitWriteFailure | undefined {
  const result = spawnSync(process.execPath, ['-e', EXIT_WRITER], {
    input: JSON.stringify(write),
    timeout: timeoutMs,
    encoding: 'utf8',
    stdio: ['pipe', 'ignore', 'pipe'],
    windowsHide: true,
  });
  if (result.status === 0) return undefined;
  if (result.error) return result.error;
  if (result.signal)
    return new Error(`the exit write did not finish within ${Math.round(timeoutMs / 1000)} s`);
  let reported: { name?: string; code?: unknown; message?: string } = {};
  try {
    reported = JSON.parse(result.stderr) as typeof reported;
  } catch {
    reported = {
      message: result.stderr.trim().slice(-500) || `the exit write ended with status ${result.status}`,
    };
  }
  const failure: ExitWriteFailure = Object.assign(new Error(reported.message ?? 'the exit write failed'), {
    code: reported.code,
  });
  // read by name in mongoErrors, as a driver error is
  Object.defineProperty(failure, 'name', { value: reported.name ?? 'Error' });
  return failure;
}
