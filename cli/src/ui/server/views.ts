/**
 * Saved views of the web UI: named states of its pages (filter, sort, grouping, selection, x
 * axis, smoothing, charts — the page's URL query, opaque here) per experiment, kept in the
 * store's metadata in a bucket of their own (`views`), so that every UI on the store sees them.
 * These are the only writes of the UI API.
 */
import type { Omega } from '@omega-track/core';
import type { Reply } from './respond';
import { HttpError } from './respond';

/** Longest view name, in characters. */
export const MAX_VIEW_NAME = 100;
/** Largest state, as JSON text in UTF-8 bytes. */
export const MAX_VIEW_STATE_BYTES = 64 * 1024;
/** The kind of a view's metadata entry. */
const VIEW_KIND = 'ui.view';

/** One saved view as the API gives it. */
export interface SavedView {
  name: string;
  state: Record<string, unknown>;
  /** When it was saved (ISO 8601). */
  saved: string;
}

/**
 * The entry name of a view: the experiment and the view's name as a JSON array, so that neither
 * can run into the other (experiment names hold '/'), and the views of one experiment share a
 * prefix (`["<experiment>",`).
 */
function entryName(experiment: string, name: string): string {
  return JSON.stringify([experiment, name]);
}

function checkName(name: string): string {
  // characters as the user sees them (a surrogate pair is one)
  const length = [...name].length;
  if (length < 1 || length > MAX_VIEW_NAME || name.trim() === '')
    throw new HttpError(400, `a view's name has 1 to ${MAX_VIEW_NAME} characters, got ${length}`);
  return name;
}

function checkState(body: unknown): Record<string, unknown> {
  const state = (body as { state?: unknown } | null | undefined)?.state;
  if (typeof state !== 'object' || state === null || Array.isArray(state))
    throw new HttpError(400, 'send the view as JSON: {"state": {...}} (state is an object)');
  const bytes = Buffer.byteLength(JSON.stringify(state));
  if (bytes > MAX_VIEW_STATE_BYTES)
    throw new HttpError(400, `a view's state is at most ${MAX_VIEW_STATE_BYTES} bytes of JSON, got ${bytes}`);
  return state as Record<string, unknown>;
}

/** The saved views of the experiments of a store. */
export class SavedViews {
  constructor(private readonly om: Omega) {}

  /** `GET /api/experiments/:exp/views`: the experiment's views, by name. */
  async list(experiment: string): Promise<Reply> {
    const prefix = JSON.stringify([experiment]).slice(0, -1) + ',';
    const entries = await this.om.store.listEntries('views', prefix);
    const views: SavedView[] = [];
    for (const e of entries) {
      const [exp, name] = JSON.parse(e.name) as [string, string];
      if (exp !== experiment || e.kind !== VIEW_KIND) continue;
      views.push({ name, state: e.data as Record<string, unknown>, saved: e.modified.toISOString() });
    }
    views.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { kind: 'json', body: { views } };
  }

  /** `PUT /api/experiments/:exp/views/:name` with `{ state }`: saves (or replaces) a view. */
  async put(experiment: string, name: string, body: unknown): Promise<Reply> {
    checkName(name);
    const state = checkState(body);
    const id = entryName(experiment, name);
    const before = await this.om.store.getEntry('views', id);
    const now = new Date();
    await this.om.store.putEntry('views', {
      name: id,
      kind: VIEW_KIND,
      attributes: { experiment, view: name },
      data: state,
      created: before?.created ?? now,
      modified: now,
    });
    const saved: SavedView = { name, state, saved: now.toISOString() };
    return { kind: 'json', body: saved };
  }

  /** `DELETE /api/experiments/:exp/views/:name`: `{ deleted }`, false when there was none. */
  async delete(experiment: string, name: string): Promise<Reply> {
    checkName(name);
    return {
      kind: 'json',
      body: { deleted: await this.om.store.deleteEntry('views', entryName(experiment, name)) },
    };
  }
}
