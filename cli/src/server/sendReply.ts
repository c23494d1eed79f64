/** Sends a handler's `Reply` (ui/server/respond.ts) through Fastify. */
import { PassThrough, Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { Output } from '../commands/output';
import type { Reply } from '../ui/server/respond';
import { attachment, jsonText } from '../ui/server/respond';

/** JSON text as the API sends it (dates as ISO text, non-finite numbers as text). */
export function sendJsonText(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(text);
}

/** A text written by `write` as a stream that honours the connection's backpressure. */
function streamOf(write: (out: Output) => Promise<void>): Readable {
  const pass = new PassThrough();
  const out = new Output((text) => {
    if (pass.destroyed) throw new Error('the client went away');
    if (pass.write(text)) return undefined;
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        pass.off('drain', done);
        pass.off('close', done);
        if (pass.destroyed) reject(new Error('the client went away'));
        else resolve();
      };
      pass.on('drain', done);
      pass.on('close', done);
    });
  });
  void (async () => {
    await write(out);
    await out.flush();
    pass.end();
  })().catch((error: unknown) => {
    // the answer is under way: it can only be cut short, and the client sees it cut
    pass.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  return pass;
}

/** Sends `r`; a HEAD request gets the headers only (a stream is not even started). */
export function sendReply(reply: FastifyReply, r: Reply, head: boolean): FastifyReply {
  switch (r.kind) {
    case 'json':
      return sendJsonText(reply, r.status ?? 200, jsonText(r.body));
    case 'jsonText':
      return sendJsonText(reply, 200, r.text);
    case 'download':
      return reply
        .code(200)
        .type('application/octet-stream')
        .headers({ 'Content-Disposition': attachment(r.filename), ...r.headers })
        .send(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength));
    case 'stream':
      reply.code(200).type(r.contentType).header('Content-Disposition', attachment(r.filename));
      return reply.send(head ? Readable.from([]) : streamOf(r.write));
  }
}
