/**
 * Bytes the code shared with the browser build makes: Node Buffers where there is Node (callers
 * may use Buffer's methods), plain Uint8Arrays in a page, which has no Buffer. Shared code only
 * uses what both have (Uint8Array's members, TextEncoder / TextDecoder).
 */
const hasBuffer = typeof Buffer !== 'undefined';

/** The bytes of `data` in a buffer of their own: a later change to `data` does not reach them. */
export function copyBytes(data: ArrayBuffer | Uint8Array): Buffer {
  const view = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
  return (hasBuffer ? Buffer.from(view) : view.slice()) as Buffer;
}

/** A view of `data`'s bytes (no copy). */
export function bytesOf(data: ArrayBuffer): Buffer {
  return (hasBuffer ? Buffer.from(data) : new Uint8Array(data)) as Buffer;
}

/** UTF-8 text as bytes. */
export function utf8Bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** UTF-8 bytes as text. */
export function utf8Text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
