/** Reading a request body within a limit, gzip decoded, without trusting what the client says of its size. */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { ApiError } from './ApiError';

/** A 413 that names the limit. */
export function tooLarge(what: string, limit: number): ApiError {
  return new ApiError(
    413,
    `${what} is over this server's limit of ${limit} bytes${limit >= 1024 * 1024 ? ` (${limit / (1024 * 1024)} MiB)` : ''}`,
    'too-large',
  );
}

/** How much of an oversized body is still read (and dropped) before the answer, at most. */
const DRAIN_BYTES = 256 * 1024 * 1024;
const DRAIN_MS = 10_000;

/**
 * Reads and drops the rest of a refused body (at most DRAIN_BYTES, DRAIN_MS), so that the
 * client, still sending, hears the answer instead of a broken pipe (fetch would report a network
 * error, and a client would retry what can never be taken). Past that the connection is cut.
 */
async function drain(req: IncomingMessage, payload: Readable): Promise<void> {
  if (payload.readableEnded || payload.destroyed) return;
  let dropped = 0;
  const ended = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => done(false), DRAIN_MS);
    const onData = (chunk: Buffer): void => {
      dropped += chunk.length;
      if (dropped > DRAIN_BYTES) done(false);
    };
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      payload.off('data', onData);
      payload.off('end', onEnd);
      payload.off('error', onError);
      resolve(ok);
    };
    const onEnd = (): void => done(true);
    const onError = (): void => done(false);
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.resume();
  });
  if (!ended) req.socket.destroy();
}

/**
 * The body of `req` from `payload` (its stream), decoded when `Content-Encoding: gzip` and
 * `gzip` is true, at most `limit` bytes after decoding: past that a 413 at once, without
 * reading the rest (a declared Content-Length over the limit is refused before reading).
 */
export async function readBody(
  req: IncomingMessage,
  payload: Readable,
  limit: number,
  what: string,
  gzip: boolean,
): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  const gzipped = encoding === 'gzip' || encoding === 'x-gzip';
  if (!gzipped && encoding !== 'identity')
    throw new ApiError(
      415,
      `Content-Encoding ${encoding} is not taken here${gzip ? ' (gzip is)' : ''}`,
      'unsupported-media-type',
    );
  if (gzipped && !gzip)
    throw new ApiError(415, 'Content-Encoding gzip is taken on event batches only', 'unsupported-media-type');
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    await drain(req, payload);
    throw tooLarge(what, limit);
  }
  const source: Readable = gzipped ? payload.pipe(zlib.createGunzip()) : payload;
  const parts: Buffer[] = [];
  let size = 0;
  try {
    // read with listeners, not for await: leaving a for-await loop would destroy the request
    // stream, and with it the connection the answer must go out on
    await new Promise<void>((resolve, reject) => {
      const done = (error?: unknown): void => {
        source.off('data', onData);
        source.off('end', onEnd);
        source.off('error', onError);
        payload.off('error', onError);
        payload.off('aborted', onAborted);
        if (error) reject(error instanceof Error ? error : new Error('the body could not be read'));
        else resolve();
      };
      const onData = (chunk: Buffer): void => {
        size += chunk.length;
        if (size > limit) {
          source.pause();
          done(tooLarge(what, limit));
        } else parts.push(chunk);
      };
      const onEnd = (): void => done();
      const onError = (error: unknown): void => done(error);
      const onAborted = (): void => done(new Error('the client went away'));
      source.on('data', onData);
      source.on('end', onEnd);
      source.on('error', onError);
      if (source !== payload) payload.on('error', onError);
      payload.on('aborted', onAborted);
    });
  } catch (error) {
    if (gzipped) payload.unpipe();
    if (error instanceof ApiError) {
      await drain(req, payload);
      throw error;
    }
    if ((error as NodeJS.ErrnoException).code?.startsWith('Z_'))
      throw new ApiError(400, `the gzip body cannot be decoded: ${(error as Error).message}`, 'bad-request');
    throw new ApiError(400, `the body was cut short: ${(error as Error).message}`, 'bad-request');
  }
  return Buffer.concat(parts, size);
}
