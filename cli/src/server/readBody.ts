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
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(what, limit);
  const source: Readable = gzipped ? payload.pipe(zlib.createGunzip()) : payload;
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > limit) throw tooLarge(what, limit);
      parts.push(buf);
    }
  } catch (error) {
    if (gzipped) payload.unpipe();
    if (error instanceof ApiError) throw error;
    if ((error as NodeJS.ErrnoException).code?.startsWith('Z_'))
      throw new ApiError(400, `the gzip body cannot be decoded: ${(error as Error).message}`, 'bad-request');
    throw new ApiError(400, `the body was cut short: ${(error as Error).message}`, 'bad-request');
  }
  return Buffer.concat(parts, size);
}
