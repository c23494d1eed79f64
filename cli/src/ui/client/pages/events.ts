/** The raw events of a run, paged by the server, filtered by event and key, downloadable as CSV. */
import type { EventJson } from '../api';
import { apiUrl, experimentPath, getJson } from '../api';
import { h, link } from '../dom';
import { clip, formatTime, formatValue } from '../format';
import { hrefs } from '../router';
import { PagedTable } from '../table';
import type { Page, PageContext } from './page';
import { runNav } from './runNav';

const BASE = new Set(['experiment', 'run', 'event', 'key', 'value', 'step', 'dt', 'node', 'userid']);

export function eventsPage(ctx: PageContext, experiment: string, run: number): Page {
  ctx.setCrumbs([
    { label: 'Experiments', href: hrefs.experiments() },
    { label: experiment, href: hrefs.runs(experiment) },
    { label: `Run ${run}` },
    { label: 'Events' },
  ]);
  const path = `${experimentPath(experiment)}/runs/${run}/events`;
  let event = '';
  let key = '';
  const csv = link('#', 'CSV', {
    className: 'csv',
    attrs: { download: `${experiment}-run${run}-events.csv` },
  });
  const updateCsv = (): void => {
    csv.href = apiUrl(path, { format: 'csv', event, key });
  };
  updateCsv();
  const table = new PagedTable<EventJson>({
    columns: [
      { id: 'dt', label: 'Time', cell: (e) => formatTime(e.dt) },
      { id: 'event', label: 'Event', cell: (e) => e.event },
      { id: 'key', label: 'Key', className: 'name', cell: (e) => e.key },
      { id: 'value', label: 'Value', className: 'value', cell: (e) => clip(formatValue(e.value), 200) },
      {
        id: 'step',
        label: 'Step',
        className: 'num',
        cell: (e) => (e.step === null || e.step === undefined ? '' : String(e.step)),
      },
      { id: 'node', label: 'Node', cell: (e) => e.node ?? '' },
      { id: 'user', label: 'User', cell: (e) => e.userid ?? '' },
      {
        id: 'extra',
        label: 'Extra',
        cell: (e) => {
          const extra = Object.fromEntries(Object.entries(e).filter(([k]) => !BASE.has(k)));
          return Object.keys(extra).length ? clip(formatValue(extra), 200) : '';
        },
      },
    ],
    pageSize: 100,
    empty: 'No events.',
    load: async ({ offset, limit }) => {
      const page = await getJson<{ events: EventJson[]; total: number }>(path, { offset, limit, event, key });
      return { rows: page.events, total: page.total };
    },
  });
  const eventInput = h('input', {
    attrs: { type: 'text', placeholder: 'event (metric, param, …)', 'aria-label': 'event' },
  });
  const keyInput = h('input', { attrs: { type: 'text', placeholder: 'key', 'aria-label': 'key' } });
  const form = h(
    'form',
    {
      className: 'filter-form',
      on: {
        submit: (e) => {
          e.preventDefault();
          event = eventInput.value.trim();
          key = keyInput.value.trim();
          updateCsv();
          void table.reload(true).catch((error: unknown) => table.showError(error));
        },
      },
    },
    eventInput,
    keyInput,
    h('button', { attrs: { type: 'submit' } }, 'Show'),
  );
  const el = h(
    'div',
    { className: 'page events-page' },
    h(
      'div',
      { className: 'toolbar' },
      h('h2', null, `Events of run ${run}`),
      runNav(experiment, run, 'events'),
      csv,
    ),
    form,
    table.el,
  );
  const refresh = async (): Promise<void> => {
    try {
      await table.reload();
    } catch (error) {
      table.showError(error);
    }
  };
  void refresh();
  return { el, live: experiment, refresh };
}
