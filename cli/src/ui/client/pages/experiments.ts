/** The experiments of the store: name, provider, runs, last activity; search by name. */
import type { ExperimentJson } from '../api';
import { apiUrl, getJson } from '../api';
import { h, link } from '../dom';
import { formatTime } from '../format';
import { hrefs } from '../router';
import { PagedTable, memoryLoader } from '../table';
import type { Page, PageContext } from './page';

export function experimentsPage(ctx: PageContext): Page {
  ctx.setCrumbs([{ label: 'Experiments' }]);
  let experiments: ExperimentJson[] = [];
  let search = '';
  const matching = (): ExperimentJson[] => {
    const needle = search.trim().toLowerCase();
    return needle ? experiments.filter((e) => e.name.toLowerCase().includes(needle)) : experiments;
  };
  const table = new PagedTable<ExperimentJson>({
    columns: [
      {
        id: 'name',
        label: 'Experiment',
        sort: 'name',
        className: 'name',
        cell: (e) => link(hrefs.runs(e.name), e.name, { className: 'experiment-link' }),
      },
      { id: 'provider', label: 'Provider', sort: 'provider', cell: (e) => e.provider },
      { id: 'runs', label: 'Runs', sort: 'runs', className: 'num', cell: (e) => String(e.runs) },
      {
        id: 'lastActivity',
        label: 'Last activity',
        sort: 'lastActivity',
        cell: (e) => formatTime(e.lastActivity),
      },
    ],
    pageSize: 100,
    sort: { key: 'lastActivity', descending: true },
    empty: 'No experiments match.',
    load: memoryLoader(matching, (e, key) => e[key as keyof ExperimentJson]),
  });
  const status = h('p', { className: 'note info' }, 'Loading…');
  const input = h('input', {
    className: 'search',
    attrs: { type: 'search', placeholder: 'Search experiments by name', 'aria-label': 'search experiments' },
    on: {
      input: () => {
        search = input.value;
        void table.reload(true);
      },
    },
  });
  const el = h(
    'div',
    { className: 'page experiments-page' },
    h(
      'div',
      { className: 'toolbar' },
      h('h2', null, 'Experiments'),
      input,
      link(apiUrl('/api/experiments', { format: 'csv' }), 'CSV', {
        className: 'csv',
        attrs: { download: 'experiments.csv' },
      }),
    ),
    status,
    table.el,
  );
  const refresh = async (): Promise<void> => {
    try {
      experiments = (await getJson<{ experiments: ExperimentJson[] }>('/api/experiments')).experiments;
      status.hidden = true;
      await table.reload();
    } catch (error) {
      status.hidden = false;
      status.className = 'note error';
      status.textContent = error instanceof Error ? error.message : String(error);
    }
  };
  void refresh();
  return { el, live: null, refresh };
}
