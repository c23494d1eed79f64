/**
 * The system profile of a run: CPU, memory, disk, network, GPU and process charts over wall
 * time, one chart per key, grouped. One request gives every key (downsampled by the server);
 * the charts are drawn as they come on screen.
 */
import type { ProfileResponse } from '../api';
import { experimentPath, getJson } from '../api';
import type { ChartLine, ChartView } from '../chart';
import { ChartBoard, ChartCard } from '../chart';
import { indexColor } from '../colors';
import { h } from '../dom';
import { hrefs } from '../router';
import { runNav } from './runNav';
import type { Page, PageContext } from './page';

const GROUPS: { title: string; test: (key: string) => boolean }[] = [
  { title: 'CPU', test: (k) => k.startsWith('cpu') },
  { title: 'Memory', test: (k) => k.startsWith('memory') || k.startsWith('mem_') },
  { title: 'Disk', test: (k) => k.startsWith('disk') },
  { title: 'Network', test: (k) => k.startsWith('net') },
  { title: 'GPU', test: (k) => k.startsWith('gpu') },
  { title: 'Process', test: (k) => k.startsWith('process') },
];

function groupOf(key: string): string {
  return GROUPS.find((g) => g.test(key))?.title ?? 'Other';
}

export function profilePage(ctx: PageContext, experiment: string, run: number): Page {
  ctx.setCrumbs([
    { label: 'Experiments', href: hrefs.experiments() },
    { label: experiment, href: hrefs.runs(experiment) },
    { label: `Run ${run}` },
    { label: 'Profile' },
  ]);
  const view: ChartView = { xMode: 'time', smoothing: 0, log: false };
  const board = new ChartBoard();
  const cards = new Map<string, ChartCard>();
  const sections = new Map<string, HTMLElement>();
  const groups = h('div', { className: 'profile-groups' });
  // every group has its place from the start, shown once it has a chart
  for (const title of [...GROUPS.map((g) => g.title), 'Other']) {
    const section = h(
      'section',
      { className: 'profile-group', attrs: { 'data-group': title, hidden: true } },
      h('h3', null, title),
      h('div', { className: 'charts' }),
    );
    sections.set(title, section);
    groups.appendChild(section);
  }
  const status = h('p', { className: 'note info' }, 'Loading…');
  let data: Promise<ProfileResponse> | undefined;
  const current = (): Promise<ProfileResponse> =>
    (data ??= getJson<ProfileResponse>(`${experimentPath(experiment)}/runs/${run}/profile`, {
      points: 2000,
    }));

  const loader = (key: string, index: number) => async (): Promise<ChartLine[]> => {
    const s = (await current()).series[key];
    if (!s) return [];
    return [
      {
        label: key,
        color: indexColor(index),
        x: s.x,
        y: s.y,
        shown: s.x.length,
        total: s.x.length,
        nonFinite: [],
      },
    ];
  };

  const load = async (): Promise<void> => {
    const response = await current();
    const keys = Object.keys(response.series).sort();
    keys.forEach((key, i) => {
      if (cards.has(key)) return;
      const group = groupOf(key);
      const section = sections.get(group)!;
      section.hidden = false;
      const card = new ChartCard(key, loader(key, i), () => view);
      cards.set(key, card);
      section.lastElementChild!.appendChild(card.el);
      board.add(card);
    });
    status.hidden = keys.length > 0;
    status.textContent = 'This run has no profile (start it with the profiling provider to record one).';
  };

  const el = h(
    'div',
    { className: 'page profile-page' },
    h(
      'div',
      { className: 'toolbar' },
      h('h2', null, `Profile of run ${run}`),
      runNav(experiment, run, 'profile'),
    ),
    status,
    groups,
  );
  const refresh = async (): Promise<void> => {
    data = undefined;
    await load();
    await board.refresh();
  };
  void load().catch((error: unknown) => {
    status.className = 'note error';
    status.textContent = error instanceof Error ? error.message : String(error);
  });
  return { el, live: experiment, refresh, dispose: () => board.dispose() };
}
