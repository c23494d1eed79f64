/**
 * The artifacts of a run: JSON-like ones shown on request (as text), binary, serialized, dataset
 * and model content as downloads served from the store by the artifact's own reference, each as
 * what it is (the server names the file: a tfjs model as `<key>.zip`, a typed array as `.npy`).
 */
import type { ArtifactJson } from '../api';
import { apiUrl, experimentPath, getRaw } from '../api';
import { getJson } from '../api';
import { h, link, replace } from '../dom';
import { clip, formatBytes, formatTime, formatValue } from '../format';
import { hrefs } from '../router';
import { PagedTable, memoryLoader } from '../table';
import type { Page, PageContext } from './page';
import { runNav } from './runNav';
import './files.css';

/** An artifact as the list gives it, with the file it downloads as (where the server knows it). */
type ArtifactRow = ArtifactJson & { file?: string };

/** Formats whose content is a file to download rather than JSON to read. */
const DOWNLOADS = new Set(['binary', 'serialized', 'dataset', 'model']);
/** How much JSON the viewer shows: a huge artifact is cut rather than freezing the tab. */
const SHOW_LIMIT = 200_000;

export function artifactsPage(ctx: PageContext, experiment: string, run: number): Page {
  ctx.setCrumbs([
    { label: 'Experiments', href: hrefs.experiments() },
    { label: experiment, href: hrefs.runs(experiment) },
    { label: `Run ${run}` },
    { label: 'Artifacts' },
  ]);
  let artifacts: ArtifactRow[] = [];
  const list = `${experimentPath(experiment)}/runs/${run}/artifacts`;
  // one artifact by key in the query: a key such as '.' or '..' would be dropped from a path
  const one = `${experimentPath(experiment)}/runs/${run}/artifact`;
  const viewer = h('div', { className: 'viewer', attrs: { hidden: true } });
  const contentUrl = (a: ArtifactJson, extra: Record<string, string> = {}): string =>
    apiUrl(one, { key: a.key, index: a.index, ...extra });
  // the main download, and where the artifact has them, its other forms: a model's files one by
  // one, a typed array's bare bytes
  const downloads = (a: ArtifactRow): HTMLElement => {
    const model = a.model as { parts?: unknown } | undefined;
    const parts = Array.isArray(model?.parts) ? (model.parts as string[]) : [];
    const others = [
      ...parts.map((part) => ({ label: part, url: contentUrl(a, { part }), file: part })),
      ...(a.file?.endsWith('.npy')
        ? [{ label: 'raw bytes', url: contentUrl(a, { raw: '1' }), file: '' }]
        : []),
    ];
    return h(
      'span',
      { className: 'downloads' },
      link(contentUrl(a), a.file ? `download ${a.file}` : 'download', {
        className: 'download',
        attrs: { download: a.file ?? '' },
      }),
      others.map((o) =>
        link(o.url, o.label, {
          className: 'download-other',
          attrs: { download: o.file },
        }),
      ),
    );
  };

  const show = async (a: ArtifactJson): Promise<void> => {
    viewer.hidden = false;
    replace(
      viewer,
      h('h3', null, `${a.key} #${a.index} (${a.format})`),
      h('p', { className: 'note info' }, 'Loading…'),
    );
    try {
      const response = await getRaw(one, { key: a.key, index: a.index });
      if (!(response.headers.get('content-type') ?? '').includes('application/json')) {
        replace(
          viewer,
          h('h3', null, `${a.key} #${a.index}`),
          link(contentUrl(a), 'download', { attrs: { download: '' } }),
        );
        return;
      }
      const body = (await response.json()) as { format?: string; value?: unknown };
      let text = JSON.stringify(body.value, null, 2) ?? String(body.value);
      if (text.length > SHOW_LIMIT)
        text = `${text.slice(0, SHOW_LIMIT)}\n… (cut at ${SHOW_LIMIT} characters)`;
      replace(
        viewer,
        h('h3', null, `${a.key} #${a.index} (${body.format ?? a.format})`),
        h('pre', { className: 'json' }, text),
      );
    } catch (error) {
      replace(
        viewer,
        h('p', { className: 'note error' }, error instanceof Error ? error.message : String(error)),
      );
    }
  };

  const table = new PagedTable<ArtifactRow>({
    columns: [
      { id: 'key', label: 'Key', sort: 'key', className: 'name', cell: (a) => a.key },
      { id: 'index', label: '#', sort: 'index', className: 'num', cell: (a) => String(a.index) },
      { id: 'format', label: 'Format', sort: 'format', cell: (a) => a.format },
      { id: 'dt', label: 'Time', sort: 'dt', cell: (a) => formatTime(a.dt) },
      {
        id: 'step',
        label: 'Step',
        sort: 'step',
        className: 'num',
        cell: (a) => (a.step === null ? '' : String(a.step)),
      },
      { id: 'size', label: 'Size', sort: 'size', className: 'num', cell: (a) => formatBytes(a.size) },
      {
        id: 'model',
        label: 'Model',
        cell: (a) => (a.model === undefined ? '' : clip(formatValue(a.model), 120)),
      },
      {
        id: 'open',
        label: '',
        cell: (a) =>
          DOWNLOADS.has(a.format)
            ? downloads(a)
            : h(
                'button',
                { className: 'show', attrs: { type: 'button' }, on: { click: () => void show(a) } },
                'show',
              ),
      },
    ],
    sort: { key: 'dt', descending: false },
    empty: 'This run has no artifacts.',
    load: memoryLoader(
      () => artifacts,
      (a, key) => {
        const v = a[key as keyof ArtifactJson];
        return typeof v === 'number' || typeof v === 'string' ? v : null;
      },
    ),
  });
  const status = h('p', { className: 'note info' }, 'Loading…');
  const el = h(
    'div',
    { className: 'page artifacts-page' },
    h(
      'div',
      { className: 'toolbar' },
      h('h2', null, `Artifacts of run ${run}`),
      runNav(experiment, run, 'artifacts'),
    ),
    status,
    table.el,
    viewer,
  );
  const refresh = async (): Promise<void> => {
    try {
      artifacts = (await getJson<{ artifacts: ArtifactRow[] }>(list)).artifacts;
      status.hidden = true;
      await table.reload();
    } catch (error) {
      status.hidden = false;
      status.className = 'note error';
      status.textContent = error instanceof Error ? error.message : String(error);
    }
  };
  void refresh();
  return { el, live: experiment, refresh };
}
