/**
 * The versioned API of `omega-track server` (`/api/v1`, docs/http-api.md): what the HTTP store
 * client reads and writes through, over the server's store. Every write is checked whole before
 * anything is stored; every event is stamped with the writer (the token's name).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Bucket, MetadataEntry, Omega, PendingEvent, ResolvedQuery } from '@omega-track/core';
import { TrackingInputError } from '@omega-track/core';
import {
  ARTEFACT_PREFIX,
  artifactBlobPrefix,
  decodeValue,
  encodeValue,
  eventColumns,
  validateExperimentName,
  validateKey,
} from '@omega-track/core/internal';
import { ApiError } from './ApiError';
import type { Principal } from './auth';
import { requireBlob, requireEntry, requireExperiment, requireRole, seesExperiment } from './auth';
import {
  BATCH_ID,
  checkDt,
  checkExtra,
  checkIdentity,
  checkStep,
  checkValue,
  decodeEventBatch,
} from './eventBatch';
import { readBody, tooLarge } from './readBody';
import { appendOnce, canonicalJson, sha256 } from './storeWrites';

/** Limits of the write API. */
export interface WriteApiOptions {
  /** The largest event batch body, decoded (default 16 MiB). */
  maxBatchBytes?: number;
  /** The largest blob (default 1 GiB). */
  maxBlobBytes?: number;
  /** Told of every run started and batch stored through the API (the live view tells its pages at once). */
  onWrite?: (experiment: string) => void;
}

/** Default limits: event batches 16 MiB, blobs 1 GiB. */
export const DEFAULT_BATCH_BYTES = 16 * 1024 * 1024;
export const DEFAULT_BLOB_BYTES = 1024 * 1024 * 1024;
/** How many blob uploads the server reads at once (each is held whole until stored). */
const BLOB_UPLOADS = 2;

/** A counting semaphore: `await take()` waits for one of `n` slots and gives back its release. */
function slots(n: number): () => Promise<() => void> {
  let free = n;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return () => {
    if (free > 0) {
      free--;
      return Promise.resolve(release);
    }
    return new Promise((resolve) => waiting.push(() => resolve(release)));
  };
}

/** The API's version, in `GET /api/v1/server`. */
export const API_VERSION = 1;
/** Rows per line of a query's answer unless asked otherwise, and the most. */
const DEFAULT_QUERY_BATCH = 10_000;
const MAX_QUERY_BATCH = 100_000;
/**
 * The buckets of the entries API (`system`, where tokens live, is never reachable): `views` are
 * the web UI's saved views, which a UI on an `http://` store keeps here.
 */
const BUCKETS: ReadonlySet<string> = new Set(['models', 'datasets', 'views']);

declare module 'fastify' {
  interface FastifyRequest {
    /** sha256 (hex) of the JSON body as received (after gzip decoding). */
    bodyDigest: string | undefined;
  }
  interface FastifyContextConfig {
    /** The route takes an event batch (gzip allowed, the batch limit). */
    batch?: boolean;
  }
}

/** The version of omega-track (cli/package.json). */
function packageVersion(): string {
  try {
    const file = path.join(__dirname, '..', '..', 'package.json');
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Sends `value` as JSON, non-finite numbers tagged (valueCodec). */
function sendV1(reply: FastifyReply, value: unknown, status = 200): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(encodeValue(value));
}

/** An entry as the API writes it: times in epoch ms. */
function entryJson(entry: MetadataEntry): Record<string, unknown> {
  return {
    name: entry.name,
    kind: entry.kind,
    attributes: entry.attributes,
    ...(entry.data !== undefined ? { data: entry.data } : {}),
    ...(entry.blob !== undefined ? { blob: entry.blob } : {}),
    created: entry.created.getTime(),
    modified: entry.modified.getTime(),
  };
}

/** The experiment of a route, checked as a name and against the token's reach. */
function experimentOf(req: FastifyRequest): string {
  const name = validateExperimentName((req.params as { exp: string }).exp);
  requireExperiment(req.principal, name);
  return name;
}

/** The bucket of a route (404 for any other than models and datasets). */
function bucketOf(req: FastifyRequest): Bucket {
  const bucket = (req.params as { bucket: string }).bucket;
  if (!BUCKETS.has(bucket))
    throw new ApiError(404, `no bucket '${bucket}': models, datasets or views`, 'not-found');
  return bucket as Bucket;
}

/** A required query parameter. */
function queryParam(req: FastifyRequest, name: string): string {
  const value = (req.query as Record<string, unknown>)[name];
  if (typeof value !== 'string' || value === '')
    throw new ApiError(400, `this endpoint takes ?${name}=`, 'bad-request');
  return value;
}

/** A whole number ≥ 1 (a run). */
function runNumber(text: string | undefined, what = 'run'): number {
  if (text === undefined || !/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < 1)
    throw new ApiError(400, `${what} is a whole number from 1, got '${String(text)}'`, 'bad-request');
  return Number(text);
}

const integerList = { type: 'array', items: { type: 'integer' } } as const;
const stringList = { type: 'array', items: { type: 'string' } } as const;
const scalar = { type: ['string', 'number', 'boolean', 'null'] } as const;

const RUNS_BODY = {
  type: 'object',
  required: ['start'],
  additionalProperties: false,
  properties: {
    start: { type: 'object' },
    atLeast: { type: 'integer', minimum: 1 },
    request: { type: 'string', pattern: BATCH_ID.source },
  },
} as const;

const QUERY_BODY = {
  type: 'object',
  required: ['query'],
  additionalProperties: false,
  properties: {
    query: {
      type: 'object',
      additionalProperties: false,
      properties: {
        runs: {
          oneOf: [
            integerList,
            {
              type: 'object',
              required: ['from', 'to'],
              additionalProperties: false,
              properties: { from: { type: 'integer' }, to: { type: 'integer' } },
            },
          ],
        },
        events: stringList,
        keys: stringList,
        steps: integerList,
        since: { type: 'number' },
        end: { type: 'number' },
        extras: { type: 'object', additionalProperties: { type: 'array', items: scalar } },
        limit: { type: 'integer', minimum: 0 },
        offset: { type: 'integer', minimum: 0 },
      },
    },
    batchSize: { type: 'integer', minimum: 1, maximum: MAX_QUERY_BATCH },
  },
} as const;

const RUN_STATS_BODY = {
  type: 'object',
  additionalProperties: false,
  properties: { runs: integerList },
} as const;

const BEATS_BODY = {
  type: 'object',
  required: ['runs', 'owner', 'intervalMs'],
  additionalProperties: false,
  properties: {
    runs: { type: 'array', items: { type: 'integer', minimum: 1 }, maxItems: 10_000 },
    owner: { type: 'string', minLength: 1, maxLength: 250 },
    intervalMs: { type: 'number', exclusiveMinimum: 0 },
  },
} as const;

const ENTRY_BODY = {
  type: 'object',
  required: ['name', 'kind', 'attributes', 'created', 'modified'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1 },
    kind: { type: 'string', minLength: 1, maxLength: 250 },
    attributes: { type: 'object' },
    data: {},
    blob: { type: 'string', minLength: 1 },
    created: { type: 'number' },
    modified: { type: 'number' },
  },
} as const;

/** The start event of `POST …/runs`, checked and stamped with the writer. */
function startEventOf(start: Record<string, unknown>, writer: string): Omit<PendingEvent, 'run'> {
  if (start.event !== 'start')
    throw new TrackingInputError(
      `start.event must be 'start', got ${JSON.stringify(start.event) ?? 'nothing'}`,
    );
  const key = validateKey(start.key, 'start.key');
  checkValue('start', key, start.value ?? null);
  for (const field of Object.keys(start))
    if (!['event', 'key', 'value', 'step', 'dt', 'node', 'userid', 'extra'].includes(field))
      throw new TrackingInputError(`start has no field '${field}'`);
  return {
    event: 'start',
    key,
    value: start.value ?? null,
    step: checkStep(start.step ?? null),
    dt: checkDt(start.dt),
    node: checkIdentity(start.node, 'start.node'),
    userid: checkIdentity(start.userid, 'start.userid'),
    extra: checkExtra(start.extra ?? null, { writer }),
  };
}

/** Registers the `/api/v1` routes on `app` (an encapsulated scope: its body parsers are its own). */
export function registerWriteApi(app: FastifyInstance, om: Omega, opts: WriteApiOptions): void {
  const store = om.store;
  const batchBytes = opts.maxBatchBytes ?? DEFAULT_BATCH_BYTES;
  const blobBytes = opts.maxBlobBytes ?? DEFAULT_BLOB_BYTES;
  const version = packageVersion();
  app.decorateRequest('bodyDigest', undefined);

  // JSON bodies: read here (gzip on event batches, the route's limit), digested, then parsed
  // keeping non-finite numbers (valueCodec)
  app.removeContentTypeParser('application/json');
  // text/plain is what a page of any site may POST without asking first (no CORS preflight):
  // refused like every other type, never taken as a body
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', async (req: FastifyRequest, payload: Readable) => {
    const isBatch = req.routeOptions.config?.batch === true;
    const limit = req.routeOptions.bodyLimit ?? 1024 * 1024;
    const bytes = await readBody(req.raw, payload, limit, isBatch ? 'the event batch' : 'the body', isBatch);
    req.bodyDigest = sha256(bytes);
    if (bytes.length === 0) return undefined;
    try {
      return decodeValue(bytes.toString('utf8'));
    } catch (error) {
      throw new ApiError(400, `the body is not JSON: ${(error as Error).message}`, 'bad-request');
    }
  });
  // blobs: the stream itself, read by the route within the blob limit
  app.addContentTypeParser('application/octet-stream', (req, payload, done) => {
    if (req.routeOptions.url !== '/api/v1/blobs')
      done(new ApiError(415, 'this endpoint takes application/json', 'unsupported-media-type'), undefined);
    else done(null, payload);
  });

  const p = (req: FastifyRequest): Principal => req.principal;
  const parseAs = <T>(req: FastifyRequest): T => req.body as T;

  app.get('/api/v1/server', async (req, reply) =>
    sendV1(reply, {
      api: API_VERSION,
      version,
      writer: p(req).name,
      role: p(req).role,
      experiments: p(req).experiments,
      limits: { batchBytes, blobBytes },
    }),
  );

  app.get('/api/v1/experiments', async (req, reply) => {
    requireRole(p(req), 'read');
    const names = (await om.experiments.list()).filter((n) => seesExperiment(p(req), n));
    return sendV1(reply, { experiments: names });
  });

  app.post('/api/v1/experiments/:exp/runs', { schema: { body: RUNS_BODY } }, async (req, reply) => {
    requireRole(p(req), 'write');
    const name = experimentOf(req);
    const body = parseAs<{ start: Record<string, unknown>; atLeast?: number; request?: string }>(req);
    const start = startEventOf(body.start, p(req).name);
    // the digest is of what the client sent (before the writer's stamp): a resend matches
    const digest = sha256(canonicalJson({ start: body.start, atLeast: body.atLeast ?? null }));
    const run = await store.startRun(
      name,
      start,
      body.atLeast,
      body.request === undefined ? undefined : { id: body.request, digest },
    );
    opts.onWrite?.(name);
    return sendV1(reply, { run });
  });

  app.post(
    '/api/v1/experiments/:exp/events',
    { bodyLimit: batchBytes, config: { batch: true } },
    async (req, reply) => {
      requireRole(p(req), 'write');
      const name = experimentOf(req);
      const latest = await store.latestRun(name);
      const batch = decodeEventBatch(req.body, name, latest, p(req).name);
      // a scoped token names only artifact entries of its own experiment (the UI downloads them)
      if (p(req).experiments !== null)
        for (const artefact of batch.artefacts) {
          const owner =
            (await store.getEntry('models', artefact)) ?? (await store.getEntry('datasets', artefact));
          if (owner?.attributes.experiment !== name)
            throw new ApiError(
              403,
              `the token '${p(req).name}' may not refer to the artifact entry '${artefact}': it is not of '${name}'`,
              'forbidden',
            );
        }
      const { duplicate } = await appendOnce(store, name, batch.events, {
        id: batch.id,
        digest: req.bodyDigest as string,
      });
      if (!duplicate) opts.onWrite?.(name);
      return sendV1(reply, { stored: duplicate ? 0 : batch.events.length, duplicate });
    },
  );

  app.post('/api/v1/experiments/:exp/events/query', { schema: { body: QUERY_BODY } }, async (req, reply) => {
    requireRole(p(req), 'read');
    const name = experimentOf(req);
    const body = parseAs<{ query: ResolvedQuery; batchSize?: number }>(req);
    const batchSize = body.batchSize ?? DEFAULT_QUERY_BATCH;
    const rows = store.iterateEvents(name, body.query, batchSize);
    async function* lines(): AsyncGenerator<string> {
      let count = 0;
      for await (const batch of rows) {
        if (batch.length === 0) continue;
        count += batch.length;
        yield `${encodeValue(eventColumns(batch))}\n`;
      }
      // the last line: a stream without it was cut, and the client fails the read
      yield `${JSON.stringify({ end: true, count })}\n`;
    }
    return reply.code(200).type('application/x-ndjson; charset=utf-8').send(Readable.from(lines()));
  });

  app.get('/api/v1/experiments/:exp/latest-run', async (req, reply) => {
    requireRole(p(req), 'read');
    return sendV1(reply, { run: (await store.latestRun(experimentOf(req))) ?? null });
  });

  app.post('/api/v1/experiments/:exp/run-stats', { schema: { body: RUN_STATS_BODY } }, async (req, reply) => {
    requireRole(p(req), 'read');
    const name = experimentOf(req);
    if (!store.runStats) throw new ApiError(404, 'this store keeps no run aggregates', 'not-found');
    const body = parseAs<{ runs?: number[] } | undefined>(req);
    return sendV1(reply, await store.runStats(name, body?.runs));
  });

  app.get('/api/v1/experiments/:exp/mark', async (req, reply) => {
    requireRole(p(req), 'read');
    const name = experimentOf(req);
    const runText = (req.query as Record<string, string | undefined>).run;
    const run = runText === undefined ? undefined : runNumber(runText);
    if (!store.changeMark) throw new ApiError(404, 'this store keeps no change marks', 'not-found');
    const mark = await store.changeMark(name, run);
    return sendV1(reply, { mark: mark.mark, runs: mark.runs, lastDt: mark.lastDt ?? null });
  });

  app.post('/api/v1/experiments/:exp/beats', { schema: { body: BEATS_BODY } }, async (req, reply) => {
    requireRole(p(req), 'write');
    const name = experimentOf(req);
    const body = parseAs<{ runs: number[]; owner: string; intervalMs: number }>(req);
    if (!Number.isFinite(body.intervalMs))
      throw new ApiError(400, 'intervalMs is a finite number', 'bad-request');
    await store.beat?.(name, body.runs, body.owner, body.intervalMs);
    return reply.code(204).send();
  });

  app.get('/api/v1/experiments/:exp/liveness', async (req, reply) => {
    requireRole(p(req), 'read');
    const name = experimentOf(req);
    const map = (await store.liveness?.(name)) ?? new Map();
    return sendV1(reply, {
      runs: [...map.entries()].map(([run, l]) => [run, l.lastBeat, l.intervalMs]),
    });
  });

  app.delete('/api/v1/experiments/:exp/events', async (req, reply) => {
    requireRole(p(req), 'admin');
    return sendV1(reply, { deleted: await store.deleteEvents(experimentOf(req)) });
  });

  app.delete('/api/v1/experiments/:exp/runs/:run', async (req, reply) => {
    requireRole(p(req), 'admin');
    const name = experimentOf(req);
    const run = runNumber((req.params as { run: string }).run);
    if (!store.deleteRun) throw new ApiError(404, 'this store cannot delete one run', 'not-found');
    return sendV1(reply, { deleted: await store.deleteRun(name, run) });
  });

  app.get('/api/v1/entries/:bucket', async (req, reply) => {
    requireRole(p(req), 'read');
    const bucket = bucketOf(req);
    const prefix = (req.query as Record<string, string | undefined>).prefix;
    const entries = await store.listEntries(bucket, prefix || undefined);
    const visible = entries.filter((e) => {
      try {
        requireEntry(p(req), bucket, e.name);
        return true;
      } catch {
        return false;
      }
    });
    return sendV1(reply, { entries: visible.map(entryJson) });
  });

  app.get('/api/v1/entries/:bucket/entry', async (req, reply) => {
    requireRole(p(req), 'read');
    const bucket = bucketOf(req);
    const name = queryParam(req, 'name');
    const entry = await store.getEntry(bucket, name);
    // an artifact entry not written yet (a client looks before it writes one) is no secret:
    // its name is a random id
    if (!entry && name.startsWith(ARTEFACT_PREFIX))
      throw new ApiError(404, `no entry '${name}' in ${bucket}`, 'not-found');
    requireEntry(p(req), bucket, name, entry ? [entry.attributes.experiment] : []);
    if (!entry) throw new ApiError(404, `no entry '${name}' in ${bucket}`, 'not-found');
    return sendV1(reply, entryJson(entry));
  });

  app.put('/api/v1/entries/:bucket/entry', { schema: { body: ENTRY_BODY } }, async (req, reply) => {
    requireRole(p(req), 'write');
    const bucket = bucketOf(req);
    const name = queryParam(req, 'name');
    const body = parseAs<Record<string, unknown>>(req);
    const previous = p(req).experiments === null ? undefined : await store.getEntry(bucket, name);
    const owner = (body.attributes as Record<string, unknown> | undefined)?.experiment;
    requireEntry(p(req), bucket, name, [owner, ...(previous ? [previous.attributes.experiment] : [])]);
    // a scoped token's artifact entry keeps its content among the experiment's own artifacts
    if (
      p(req).experiments !== null &&
      body.blob !== undefined &&
      typeof owner === 'string' &&
      name.startsWith(ARTEFACT_PREFIX) &&
      !(typeof body.blob === 'string' && body.blob.startsWith(artifactBlobPrefix(owner)))
    )
      throw new ApiError(
        403,
        `the token '${p(req).name}' may keep the content of '${name}' only under '${artifactBlobPrefix(owner)}'`,
        'forbidden',
      );
    if (body.name !== name)
      throw new ApiError(400, `the entry's name '${String(body.name)}' is not ?name=${name}`, 'bad-request');
    const created = checkDt(body.created);
    const modified = checkDt(body.modified);
    await store.putEntry(bucket, {
      name,
      kind: body.kind as string,
      attributes: body.attributes as Record<string, unknown>,
      ...(body.data !== undefined ? { data: body.data } : {}),
      ...(body.blob !== undefined ? { blob: body.blob as string } : {}),
      created: new Date(created),
      modified: new Date(modified),
    });
    return reply.code(204).send();
  });

  app.delete('/api/v1/entries/:bucket/entry', async (req, reply) => {
    const bucket = bucketOf(req);
    const name = queryParam(req, 'name');
    const stored = p(req).experiments === null ? undefined : await store.getEntry(bucket, name);
    requireEntry(p(req), bucket, name, stored ? [stored.attributes.experiment] : []);
    // deleting is an admin's: a write token (a page's, visible to its users) deletes no data; a
    // saved view is no data (the UI's views are deleted by whoever may save them)
    requireRole(p(req), bucket === 'views' ? 'write' : 'admin');
    return sendV1(reply, { deleted: await store.deleteEntry(bucket, name) });
  });

  // a store takes a blob whole, so the server holds each upload in memory until it is stored:
  // at most BLOB_UPLOADS at once, the others wait their turn (memory stays within a few blob limits)
  const uploads = slots(BLOB_UPLOADS);
  app.put('/api/v1/blobs', async (req, reply) => {
    requireRole(p(req), 'write');
    const key = queryParam(req, 'key');
    requireBlob(p(req), key);
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/octet-stream')
      throw new ApiError(415, 'a blob is sent as application/octet-stream', 'unsupported-media-type');
    const release = await uploads();
    try {
      const data = await readBody(req.raw, req.body as Readable, blobBytes, 'the blob', false);
      if (data.length > blobBytes) throw tooLarge('the blob', blobBytes);
      await store.putBlob(key, data);
    } finally {
      release();
    }
    return reply.code(204).send();
  });

  app.get('/api/v1/blobs', async (req, reply) => {
    requireRole(p(req), 'read');
    const key = queryParam(req, 'key');
    requireBlob(p(req), key);
    const data = await store.getBlob(key);
    if (!data) throw new ApiError(404, `no blob '${key}'`, 'not-found');
    return reply.code(200).type('application/octet-stream').send(data);
  });

  app.get('/api/v1/blobs/keys', async (req, reply) => {
    requireRole(p(req), 'read');
    const prefix = queryParam(req, 'prefix');
    requireBlob(p(req), prefix);
    return sendV1(reply, { keys: await store.listBlobs(prefix) });
  });

  app.delete('/api/v1/blobs', async (req, reply) => {
    const prefix = queryParam(req, 'prefix');
    requireBlob(p(req), prefix);
    // deleting is an admin's: a write token (a page's, visible to its users) deletes nothing
    requireRole(p(req), 'admin');
    return sendV1(reply, { deleted: await store.deleteBlobs(prefix) });
  });
}
