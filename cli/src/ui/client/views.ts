/**
 * Saved views of the runs page and of Compare: the page's URL state (filter, sort, grouping,
 * selection, columns, values; on Compare the runs, x axis, smoothing, charts) saved under a name in the store (`PUT /api/experiments/:exp/views/:name`), listed per
 * experiment, opened and deleted. The state is saved as the query's keys and values, as they are
 * in the address bar.
 */
import { ApiError, apiUrl, experimentPath, getJson, token } from './api';
import { h, replace } from './dom';
import { formatTime } from './format';

export interface SavedView {
  name: string;
  state: Record<string, string>;
  saved: string;
}

function viewsPath(experiment: string): string {
  return `${experimentPath(experiment)}/views`;
}

/** A write of the API (the only ones: views) with the page's token. */
async function send<T>(method: 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(apiUrl(path, {}, false), {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = json && typeof json === 'object' ? (json as { error?: unknown }).error : undefined;
    throw new ApiError(
      response.status,
      typeof error === 'string' ? error : `${response.status} ${response.statusText}`,
    );
  }
  return json as T;
}

export async function listViews(experiment: string): Promise<SavedView[]> {
  return (await getJson<{ views: SavedView[] }>(viewsPath(experiment))).views;
}

export async function saveView(
  experiment: string,
  name: string,
  state: Record<string, string>,
): Promise<SavedView> {
  return send<SavedView>('PUT', `${viewsPath(experiment)}/${encodeURIComponent(name)}`, { state });
}

export async function deleteView(experiment: string, name: string): Promise<boolean> {
  return (await send<{ deleted: boolean }>('DELETE', `${viewsPath(experiment)}/${encodeURIComponent(name)}`))
    .deleted;
}

/**
 * The hash that opens a saved view: on the runs page, or on Compare for a view saved there
 * (its state says `page: 'compare'` and holds the runs, x axis, smoothing, charts and grouping).
 */
export function viewHash(experiment: string, view: SavedView): string {
  const q = new URLSearchParams();
  const state = view.state ?? {};
  for (const [k, v] of Object.entries(state))
    if (typeof v === 'string' && k !== 'view' && k !== 'page') q.set(k, v);
  q.set('view', view.name);
  const page = state.page === 'compare' ? '/compare' : '';
  return `#/e/${encodeURIComponent(experiment)}${page}?${q.toString()}`;
}

/**
 * The views panel of the runs page: a name and Save (the current state), and the experiment's
 * views, each to open or delete. `state()` is the page's state as query keys and values.
 */
export function viewsPanel(
  experiment: string,
  current: string,
  state: () => Record<string, string>,
): HTMLElement {
  const list = h('ul', { className: 'views-list' });
  const message = h('p', { className: 'note info views-message' });
  const name = h('input', {
    className: 'view-name',
    attrs: { type: 'text', placeholder: 'view name', 'aria-label': 'view name', value: current },
  });
  const load = async (): Promise<void> => {
    try {
      const views = await listViews(experiment);
      replace(
        list,
        views.length === 0
          ? h('li', { className: 'note info' }, 'No saved views.')
          : views.map((v) =>
              h(
                'li',
                { className: 'view', attrs: { 'data-view': v.name } },
                h('a', { className: 'open-view', attrs: { href: viewHash(experiment, v) } }, v.name),
                h('span', { className: 'saved' }, ` ${formatTime(v.saved)} `),
                h(
                  'button',
                  {
                    className: 'delete-view',
                    attrs: { type: 'button', 'aria-label': `delete view ${v.name}` },
                    on: {
                      click: () =>
                        void deleteView(experiment, v.name)
                          .then(load)
                          .catch(
                            (e: unknown) =>
                              (message.textContent = String(e instanceof Error ? e.message : e)),
                          ),
                    },
                  },
                  '×',
                ),
              ),
            ),
      );
    } catch (error) {
      message.textContent = `Views: ${error instanceof Error ? error.message : String(error)}`;
    }
  };
  const form = h(
    'form',
    {
      className: 'view-form',
      on: {
        submit: (e) => {
          e.preventDefault();
          const n = name.value.trim();
          if (!n) return;
          message.textContent = '';
          void saveView(experiment, n, state())
            .then(() => {
              message.textContent = `Saved “${n}”.`;
              return load();
            })
            .catch(
              (err: unknown) => (message.textContent = String(err instanceof Error ? err.message : err)),
            );
        },
      },
    },
    name,
    h('button', { className: 'save-view', attrs: { type: 'submit' } }, 'Save view'),
  );
  const panel = h(
    'details',
    { className: 'panel views-panel' },
    h('summary', null, current ? `View: ${current}` : 'Views'),
    form,
    message,
    list,
  );
  panel.addEventListener('toggle', () => {
    if (panel.open) void load();
  });
  return panel;
}
