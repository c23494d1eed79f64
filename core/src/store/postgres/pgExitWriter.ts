/**
 * The exit writer's program (see pgExitWrite): reads what to write on stdin, writes each batch
 * in a transaction of its own with the store's own SQL (writeBatch: a batch the exiting process
 * committed already, by its name or its write id, is not written again), reports a failure on stderr as JSON, exits.
 */
import type * as Pg from 'pg';
import { decodeExitBatches } from './pgExitWrite';
import type { ExitWriteInput } from './pgExitWrite';
import { inTransaction, writeBatch } from './pgWrites';

async function main(input: ExitWriteInput): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pg = require(input.driver) as typeof Pg;
  const client = new pg.Client({
    connectionString: input.connectionString,
    connectionTimeoutMillis: input.connectTimeoutMs,
    application_name: 'omega-track exit writer',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    for (const b of decodeExitBatches(input.batches))
      await inTransaction(client, () => writeBatch(client, input.schema, b, input.schema));
  } finally {
    await client.end().catch(() => undefined);
  }
}

const parts: Buffer[] = [];
process.stdin.on('data', (c: Buffer) => parts.push(c));
process.stdin.on('end', () => {
  main(JSON.parse(Buffer.concat(parts).toString('utf8')) as ExitWriteInput).then(
    () => process.exit(0),
    (e: unknown) => {
      const error = e as { code?: unknown; message?: unknown };
      process.stderr.write(JSON.stringify({ code: error?.code, message: String(error?.message ?? e) }));
      process.exit(1);
    },
  );
});
