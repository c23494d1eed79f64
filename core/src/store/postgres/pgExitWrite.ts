import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { decodeValue, encodeValue } from '../../events/valueCodec';
import type { EncodedChunk } from '../chunks/EventChunk';
import type { WriteId } from '../Store';

/** One batch for the exit writer: its chunks and the name that keeps it from being written twice. */
export interface ExitBatch {
  experiment: string;
  batch: string;
  chunks: readonly EncodedChunk[];
  /** The caller's write id, recorded with the batch wherever it is written (see WriteId). */
  writeId?: WriteId;
}

/** What the exit writer reads on its standard input. */
export interface ExitWriteInput {
  /** pg's entry file, as the exiting process resolved it. */
  driver: string;
  /** The connection string, password included: on stdin only, never the command line or environment. */
  connectionString: string;
  connectTimeoutMs: number;
  /** The schema, quoted. */
  schema: string;
  /** The batches, as `encodeExitBatches` wrote them. */
  batches: string;
}

/** The batches as JSON text: payloads as base64, aggregates' values with their non-finite numbers. */
export function encodeExitBatches(batches: readonly ExitBatch[]): string {
  return encodeValue(
    batches.map((b) => ({
      ...b,
      chunks: b.chunks.map((c) => ({ ...c, payload: c.payload.toString('base64') })),
    })),
  );
}

/** The batches from `encodeExitBatches`' text. */
export function decodeExitBatches(text: string): ExitBatch[] {
  const batches = decodeValue(text) as Array<
    Omit<ExitBatch, 'chunks'> & { chunks: Array<Omit<EncodedChunk, 'payload'> & { payload: string }> }
  >;
  return batches.map((b) => ({
    ...b,
    chunks: b.chunks.map((c) => ({ ...c, payload: Buffer.from(c.payload, 'base64') })),
  }));
}

/** The compiled exit writer beside this file; from TypeScript sources (ts-jest), the built one. */
function writerScript(): string {
  const beside = path.join(__dirname, 'pgExitWriter.js');
  if (fs.existsSync(beside)) return beside;
  return path.join(__dirname, '..', '..', '..', 'dist', 'store', 'postgres', 'pgExitWriter.js');
}

/** What the child reported when it failed: an error-like object, for toPgStoreError. */
export type PgExitWriteFailure = Error & { code?: unknown };

/**
 * The last writes of a process that is exiting (`process.on('exit')`, a signal): no promise can
 * settle there and pg has no synchronous API, so the batches go to a short-lived Node process
 * (pgExitWriter) that this one waits for, at most `timeoutMs`. Returns undefined when it wrote,
 * else the failure (the child's error, a timeout, or a child that could not start).
 */
export function runPgExitWrite(input: ExitWriteInput, timeoutMs: number): PgExitWriteFailure | undefined {
  const result = spawnSync(process.execPath, [writerScript()], {
    input: JSON.stringify(input),
    timeout: timeoutMs,
    encoding: 'utf8',
    stdio: ['pipe', 'ignore', 'pipe'],
    windowsHide: true,
  });
  if (result.status === 0) return undefined;
  if (result.error) return result.error;
  if (result.signal)
    return new Error(`the exit write did not finish within ${Math.round(timeoutMs / 1000)} s`);
  let reported: { code?: unknown; message?: string } = {};
  try {
    reported = JSON.parse(result.stderr) as typeof reported;
  } catch {
    reported = {
      message: result.stderr.trim().slice(-500) || `the exit write ended with status ${result.status}`,
    };
  }
  return Object.assign(new Error(reported.message ?? 'the exit write failed'), { code: reported.code });
}
