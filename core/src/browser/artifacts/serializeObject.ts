import { TrackingError } from '../../errors/TrackingError';

/**
 * The browser's artifact serializer (it replaces core/src/artifacts/serializeObject.ts): a page
 * has no v8 serializer, so what is neither JSON nor bytes is logged as its `repr`, and an
 * artifact serialized by Node cannot be restored here.
 */
export const serializer = {
  available: false,
  serialize(): Uint8Array {
    throw new TrackingError('v8 serialization is not available in a browser');
  },
  deserialize(): unknown {
    throw new TrackingError(
      'this artifact was serialized by Node (v8 format): restore it in Node; a page can read its data() row only',
    );
  },
  repr(obj: unknown): string {
    if (obj instanceof Map) return `Map(${obj.size}) ${safeJson(Object.fromEntries(obj))}`;
    if (obj instanceof Set) return `Set(${obj.size}) ${safeJson([...obj])}`;
    if (obj instanceof Date) return obj.toISOString();
    const name = (obj as object | null)?.constructor?.name;
    const text = safeJson(obj);
    return name && name !== 'Object' ? `${name} ${text}` : text;
  },
};

function safeJson(obj: unknown): string {
  try {
    return JSON.stringify(obj) ?? String(obj);
  } catch {
    return String(obj);
  }
}
