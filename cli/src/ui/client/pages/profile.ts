/**
 * The system profile of a run: a facts table of what describes the machine (memory_total,
 * cpu_count and any key whose value never changed), then the keys that move, grouped (CPU,
 * memory, disk, network, process, GPU) with one chart per group and unit — its y axis in that
 * unit. One request gives every key (downsampled by the server); the charts are few, so all are
 * drawn at once (a full-page capture or print shows every one, not empty boxes below the fold).
 */
import type { ProfileResponse } from '../api';
import { experimentPath, getJson } from '../api';
import { h, replace } from '../dom';
import { naturalCompare } from '../naturalCompare';
import { hrefs } from '../router';
import type { ProfileLine, ProfileUnit } from './profileCharts';
import { CONSTANT_KEYS, PROFILE_GROUPS, ProfileChart, formatWithUnit, keyInfo } from './profileCharts';
import { runNav } from './runNav';
import type { Page, PageContext } from './page';
import './profile.css';

/** The order of a group's charts: shares first, then sizes, rates, and the rest. */
const UNIT_ORDER: ProfileUnit[] = ['%', 'bytes', 'bytes/s', 'GHz', 'load', 'count', ''];

/** A key's series as the page uses it: finite points only. */
interface KeySeries {
  key: string;
  x: number[];
  y: number[];
}

/** The finite points of each key of a profile response. */
function seriesOf(response: ProfileResponse): KeySeries[] {
  return Object.keys(response.series)
    .sort(naturalCompare)
    .map((key) => {
      const s = response.series[key];
      const x: number[] = [];
      const y: number[] = [];
      for (let i = 0; i < s.x.length; i++)
        if (typeof s.y[i] === 'number' && Number.isFinite(s.y[i])) {
          x.push(s.x[i]);
          y.push(s.y[i]);
        }
      return { key, x, y };
    })
    .filter((s) => s.x.length > 0);
}

/** Whether a key is a fact of the run rather than a load over time. */
function isFact(s: KeySeries): boolean {
  if (CONSTANT_KEYS.has(s.key.replace(/\[[^\]]*\]$/, ''))) return true;
  // the server's downsampling keeps each bucket's extremes: equal values mean an unchanged key
  return s.y.every((v) => v === s.y[0]);
}

export function profilePage(ctx: PageContext, experiment: string, run: number): Page {
  ctx.setCrumbs([
    { label: 'Experiments', href: hrefs.experiments() },
    { label: experiment, href: hrefs.runs(experiment) },
    { label: `Run ${run}` },
    { label: 'Profile' },
  ]);
  const status = h('p', { className: 'note info' }, 'Loading…');
  const facts = h('section', { className: 'profile-facts', attrs: { hidden: true } });
  const groups = h('div', { className: 'profile-groups' });
  let charts: ProfileChart[] = [];
  let resizeTimer: ReturnType<typeof setTimeout> | undefined;
  const onResize = (): void => {
    if (resizeTimer !== undefined) clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => charts.forEach((c) => c.resize()), 150);
  };
  window.addEventListener('resize', onResize);

  const renderFacts = (list: KeySeries[]): void => {
    facts.hidden = list.length === 0;
    replace(
      facts,
      h('h3', null, 'Facts'),
      h(
        'table',
        { className: 'facts' },
        h('thead', null, h('tr', null, h('th', null, 'Key'), h('th', null, 'Value'), h('th', null, 'Group'))),
        h(
          'tbody',
          null,
          list.map((s) => {
            const { group, unit } = keyInfo(s.key);
            const last = s.y[s.y.length - 1];
            const min = Math.min(...s.y);
            const max = Math.max(...s.y);
            const value =
              min === max
                ? formatWithUnit(last, unit)
                : `${formatWithUnit(last, unit)} (from ${formatWithUnit(min, unit)} to ${formatWithUnit(max, unit)})`;
            return h(
              'tr',
              { attrs: { 'data-key': s.key } },
              h('td', { className: 'name' }, s.key),
              h('td', { className: 'num' }, value),
              h('td', null, group),
            );
          }),
        ),
      ),
    );
  };

  const renderCharts = (list: KeySeries[]): void => {
    charts.forEach((c) => c.dispose());
    charts = [];
    const sections: HTMLElement[] = [];
    for (const group of PROFILE_GROUPS) {
      const inGroup = list.filter((s) => keyInfo(s.key).group === group);
      if (inGroup.length === 0) continue;
      // one chart per unit of the group; a key of unknown unit has a chart of its own
      const byUnit = new Map<string, { unit: ProfileUnit; lines: ProfileLine[] }>();
      for (const s of inGroup) {
        const { unit } = keyInfo(s.key);
        const id = unit === '' ? `key:${s.key}` : unit;
        let slot = byUnit.get(id);
        if (!slot) byUnit.set(id, (slot = { unit, lines: [] }));
        slot.lines.push({ label: s.key, x: s.x, y: s.y });
      }
      const made = [...byUnit.values()]
        .sort((a, b) => UNIT_ORDER.indexOf(a.unit) - UNIT_ORDER.indexOf(b.unit))
        .map(
          (slot) =>
            new ProfileChart(
              slot.unit === ''
                ? slot.lines[0].label
                : `${group} · ${slot.unit === 'load' ? 'load average' : slot.unit}`,
              slot.unit,
              slot.lines,
            ),
        );
      charts.push(...made);
      sections.push(
        h(
          'section',
          { className: 'profile-group', attrs: { 'data-group': group } },
          h('h3', null, group),
          h(
            'div',
            { className: 'profile-charts' },
            made.map((c) => c.el),
          ),
        ),
      );
    }
    replace(groups, sections);
    // in the document now: each chart takes the width of its place
    for (const c of charts) c.draw();
  };

  const load = async (): Promise<void> => {
    const response = await getJson<ProfileResponse>(`${experimentPath(experiment)}/runs/${run}/profile`, {
      points: 2000,
    });
    const all = seriesOf(response);
    if (all.length === 0) {
      status.hidden = false;
      status.className = 'note info profile-empty';
      status.textContent = `Run ${run} has no profile. Runs record one when started with the profiling provider (provider: 'profiling').`;
      renderFacts([]);
      renderCharts([]);
      return;
    }
    status.hidden = true;
    renderFacts(all.filter(isFact));
    renderCharts(all.filter((s) => !isFact(s)));
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
    facts,
    groups,
  );
  void load().catch((error: unknown) => {
    status.hidden = false;
    status.className = 'note error';
    status.textContent = error instanceof Error ? error.message : String(error);
  });
  return {
    el,
    live: experiment,
    refresh: load,
    dispose: () => {
      window.removeEventListener('resize', onResize);
      if (resizeTimer !== undefined) clearTimeout(resizeTimer);
      charts.forEach((c) => c.dispose());
    },
  };
}
