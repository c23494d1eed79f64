/**
 * The security of pages that log into a team server, in real Chromium against a real `omega-track
 * server`: a page's token is visible to whoever opens the page, so what it may do is what an
 * experiment-scoped `write` token may do, whatever request is made with it; `--cors-origin` decides
 * which pages may call the API at all; and a page never passes as the tokenless loopback admin
 * `local`. What reached the server is read from its store in Node.
 */
import type { BrowserRig } from './pageHarness';
import { clientPage, createToken, startBrowserRig, startPageServer } from './pageHarness';
import type { PageServer } from './pageHarness';
import { installOutcome, metricBatch, pageFetch, seedRun, startBody, storeState } from './securityHelpers';
import type { ClientOutcome } from './securityHelpers';

jest.setTimeout(180_000);

const enc = encodeURIComponent;

describe('an experiment-scoped write token used by a page', () => {
  let rig: BrowserRig;
  let token: string;
  const v1 = (path: string): string => `${rig.server.url}/api/v1${path}`;

  beforeAll(async () => {
    rig = await startBrowserRig();
    token = createToken(rig.store, 'demo-page', 'write', ['--experiments', 'demo/*']);
    await seedRun(rig.store, 'other/secret', [0.9, 0.5]);
    await seedRun(rig.store, 'demo/keep', [0.8, 0.4]);
    await rig.open('/scoped.html');
    await installOutcome(rig.page);
  });

  afterAll(async () => {
    await rig?.close();
  });

  test('cannot write another experiment: the client gets a typed error, raw requests are refused, nothing is stored there', async () => {
    const before = await storeState(rig.store, ['other/secret', 'other/new']);
    const client = await rig.page.evaluate(
      async ({ url, token }) => {
        const g = globalThis as any;
        const om = g.ot.omega({ store: url, token });
        const out: Record<string, ClientOutcome> = {};
        // the page's own experiment works: the token is good
        out.own = await g.outcome(om.runtime.experiment('demo/ok').run((e: any) => e.logMetric('m', 1)));
        out.existing = await g.outcome(
          om.runtime.experiment('other/secret').run((e: any) => e.logMetric('stolen', 1)),
        );
        out.fresh = await g.outcome(om.runtime.experiment('other/new').run((e: any) => e.logMetric('m', 1)));
        out.started = await g.outcome(om.runtime.experiment('other/new').start());
        out.close = await g.outcome(om.close());
        return out;
      },
      { url: rig.server.url, token },
    );
    expect(client.own).toMatchObject({ ok: true });
    for (const k of ['existing', 'fresh', 'started'])
      expect(client[k]).toMatchObject({ ok: false, tracking: true, storeError: true, code: 'forbidden' });
    expect(client.close).toMatchObject({ ok: true });

    // the token in hand, a page user makes the requests the client would not make
    const raw = {
      start: await pageFetch(rig.page, v1(`/experiments/${enc('other/secret')}/runs`), {
        method: 'POST',
        token,
        body: startBody(),
      }),
      events: await pageFetch(rig.page, v1(`/experiments/${enc('other/secret')}/events`), {
        method: 'POST',
        token,
        body: metricBatch('mallory-1', 1, [42, 43]),
      }),
      config: await pageFetch(rig.page, v1(`/entries/models/entry?name=${enc('experiments/other/new')}`), {
        method: 'PUT',
        token,
        body: JSON.stringify({
          name: 'experiments/other/new',
          kind: 'experiment.tracker',
          attributes: { tracking: { provider: 'default', options: {} } },
          created: Date.now(),
          modified: Date.now(),
        }),
      }),
      blob: await pageFetch(
        rig.page,
        v1(`/blobs?key=${enc(`.experiments/${enc('other/secret')}/planted`)}`),
        {
          method: 'PUT',
          token,
          body: 'bytes',
          type: 'application/octet-stream',
        },
      ),
    };
    for (const answer of Object.values(raw)) expect(answer).toMatchObject({ status: 403, code: 'forbidden' });

    const after = await storeState(rig.store, ['other/secret', 'other/new', 'demo/ok']);
    expect(after.events['other/secret']).toEqual(before.events['other/secret']);
    // seeded on the store directly (no server stamped a writer); nothing of the page's token
    expect(after.events['other/secret'].writers).toEqual(['(none)']);
    expect(after.events['other/new'].lines).toEqual([]);
    expect(after.experiments).not.toContain('other/new');
    // the page's own run is there, written by the token
    expect(after.events['demo/ok'].writers).toEqual(['demo-page']);
    expect(after.events['demo/ok'].lines).toContain('1:metric:m=1');
  });

  test('cannot read another experiment: data() and runs() are refused, and so is every read request', async () => {
    const client = await rig.page.evaluate(
      async ({ url, token }) => {
        const g = globalThis as any;
        const om = g.ot.omega({ store: url, token });
        const other = om.runtime.experiment('other/secret');
        const out: Record<string, ClientOutcome> = {
          data: await g.outcome(other.data()),
          runs: await g.outcome(other.runs()),
          summary: await g.outcome(other.summary()),
          search: await g.outcome(om.runs.search({ experiments: 'other/*' })),
          own: await g.outcome(om.runtime.experiment('demo/keep').data()),
        };
        await om.close();
        return out;
      },
      { url: rig.server.url, token },
    );
    for (const k of ['data', 'runs', 'summary'])
      expect(client[k]).toMatchObject({ ok: false, storeError: true, code: 'forbidden' });
    // a search across experiments finds none the token does not reach
    expect(client.search.ok ? client.search.value : []).toEqual([]);
    // its own experiments it reads (whoever wrote them)
    expect(client.own.ok).toBe(true);
    expect((client.own.value as any[]).some((r) => r.key === 'loss')).toBe(true);

    const secret = enc('other/secret');
    const reads = {
      query: await pageFetch(rig.page, v1(`/experiments/${secret}/events/query`), {
        method: 'POST',
        token,
        body: JSON.stringify({ query: {} }),
      }),
      latest: await pageFetch(rig.page, v1(`/experiments/${secret}/latest-run`), { token }),
      stats: await pageFetch(rig.page, v1(`/experiments/${secret}/run-stats`), {
        method: 'POST',
        token,
        body: '{}',
      }),
      config: await pageFetch(rig.page, v1(`/entries/models/entry?name=${enc('experiments/other/secret')}`), {
        token,
      }),
      uiRuns: await pageFetch(rig.page, `${rig.server.url}/api/experiments/${secret}/runs`, { token }),
      uiSeries: await pageFetch(rig.page, `${rig.server.url}/api/experiments/${secret}/series?keys=loss`, {
        token,
      }),
    };
    for (const answer of Object.values(reads)) {
      expect(answer.status).toBe(403);
      expect(answer.text).not.toContain('0.9');
    }
    // lists show only what the token reaches
    const lists = {
      v1: await pageFetch(rig.page, v1('/experiments'), { token }),
      ui: await pageFetch(rig.page, `${rig.server.url}/api/experiments`, { token }),
      entries: await pageFetch(rig.page, v1('/entries/models'), { token }),
    };
    for (const answer of Object.values(lists)) {
      expect(answer.status).toBe(200);
      expect(answer.text).toContain('demo/keep');
      expect(answer.text).not.toContain('other/secret');
    }
  });

  test('cannot delete: deleteRun(), clear() and drop from the page are refused, so are raw deletes, and the data stays', async () => {
    const names = ['demo/keep', 'other/secret'];
    const before = await storeState(rig.store, names);
    const client = await rig.page.evaluate(
      async ({ url, token }) => {
        const g = globalThis as any;
        const om = g.ot.omega({ store: url, token });
        const keep = om.runtime.experiment('demo/keep');
        const out: Record<string, ClientOutcome> = {
          deleteRun: await g.outcome(keep.deleteRun(1, { force: true })),
          clear: await g.outcome(keep.clear({ force: true })),
          drop: await g.outcome(om.experiments.drop('demo/keep', { force: true })),
          other: await g.outcome(om.runtime.experiment('other/secret').clear({ force: true })),
        };
        await om.close();
        return out;
      },
      { url: rig.server.url, token },
    );
    for (const k of ['deleteRun', 'clear', 'drop', 'other'])
      expect(client[k]).toMatchObject({ ok: false, storeError: true, code: 'forbidden' });

    const raw = [
      await pageFetch(rig.page, v1(`/experiments/${enc('demo/keep')}/events`), { method: 'DELETE', token }),
      await pageFetch(rig.page, v1(`/experiments/${enc('demo/keep')}/runs/1`), { method: 'DELETE', token }),
      await pageFetch(rig.page, v1(`/experiments/${enc('other/secret')}/events`), {
        method: 'DELETE',
        token,
      }),
      await pageFetch(rig.page, v1(`/entries/models/entry?name=${enc('experiments/other/secret')}`), {
        method: 'DELETE',
        token,
      }),
      await pageFetch(rig.page, v1(`/blobs?prefix=${enc(`.experiments/${enc('other/secret')}/`)}`), {
        method: 'DELETE',
        token,
      }),
      // every experiment's artifacts at once
      await pageFetch(rig.page, v1(`/blobs?prefix=${enc('.experiments/')}`), { method: 'DELETE', token }),
      // its own experiment's configuration and artifacts: a write token deletes nothing
      await pageFetch(rig.page, v1(`/entries/models/entry?name=${enc('experiments/demo/keep')}`), {
        method: 'DELETE',
        token,
      }),
      await pageFetch(rig.page, v1(`/blobs?prefix=${enc(`.experiments/${enc('demo/keep')}/`)}`), {
        method: 'DELETE',
        token,
      }),
    ];
    for (const answer of raw) expect(answer).toMatchObject({ status: 403, code: 'forbidden' });

    const after = await storeState(rig.store, names);
    expect(after.events).toEqual(before.events);
    expect(after.experiments).toEqual(expect.arrayContaining(names));
    expect(after.events['demo/keep'].lines).toEqual(
      expect.arrayContaining(['1:metric:loss=0.8', '1:metric:loss=0.4', '1:param:seeded=true']),
    );
    // the artifacts' content is still there (a refused deleteRun deleted nothing before it failed)
    await rig.readStore(async (om) => {
      const keep = om.runtime.experiment('demo/keep');
      expect(Array.from((await keep.restoreArtifact<Uint8Array>('bytes', { run: 1 }))!)).toEqual([1, 2, 3]);
      expect(await keep.restoreArtifact('notes', { run: 1 })).toEqual({ note: 'kept' });
    });
  });
});

describe('a page of an origin not in --cors-origin', () => {
  let rig: BrowserRig;
  let allowed: PageServer;
  let token: string;

  beforeAll(async () => {
    // the server lets another page server's origin in, not the rig's own
    allowed = await startPageServer();
    rig = await startBrowserRig({ cors: () => [allowed.origin] });
    token = createToken(rig.store, 'demo-page', 'write', ['--experiments', 'demo/*']);
    await seedRun(rig.store, 'demo/cors', [0.7]);
  });

  afterAll(async () => {
    await rig?.close();
    await allowed?.close();
  });

  test('is refused by the browser: the client gets no answer, raw requests are blocked, nothing it logs is stored; the allowed origin logs with the same token', async () => {
    const before = await storeState(rig.store, ['demo/cors', 'demo/blocked']);
    // the client module itself is public (CORS *): the page loads it
    await rig.open('/blocked.html');
    await installOutcome(rig.page);
    // the client tries for its timeout (30 s) and then says the server is unreachable
    await rig.page.evaluate(
      ({ url, token }) => {
        const g = globalThis as any;
        const om = g.ot.omega({ store: url, token });
        g.attempt = g.outcome(
          om.runtime.experiment('demo/blocked').run((e: any) => {
            e.logMetric('loss', 1);
            return e.currentRun;
          }),
        );
      },
      { url: rig.server.url, token },
    );
    const v1 = `${rig.server.url}/api/v1`;
    const blocked = {
      start: await pageFetch(rig.page, `${v1}/experiments/${enc('demo/cors')}/runs`, {
        method: 'POST',
        token,
        body: startBody(),
      }),
      events: await pageFetch(rig.page, `${v1}/experiments/${enc('demo/cors')}/events`, {
        method: 'POST',
        token,
        body: metricBatch('blocked-1', 1, [1, 2, 3]),
      }),
      read: await pageFetch(rig.page, `${v1}/experiments`, { token }),
    };
    for (const answer of Object.values(blocked)) {
      expect(answer.status).toBeUndefined();
      expect(answer.blocked).toMatch(/TypeError/);
    }
    // a request the browser sends without asking first (no-cors, a "simple" POST) reaches the
    // server, but with no token and as text/plain: refused there; the page cannot read the answer
    // (Chromium even fails the fetch: the server's answers are Cross-Origin-Resource-Policy same-origin)
    const simple = await pageFetch(rig.page, `${v1}/experiments/${enc('demo/cors')}/events`, {
      method: 'POST',
      body: metricBatch('blocked-2', 1, [4]),
      type: 'text/plain',
      mode: 'no-cors',
    });
    expect(simple.text).toBeUndefined();

    const outcome = (await rig.page.evaluate(() => (globalThis as any).attempt)) as ClientOutcome;
    expect(outcome).toMatchObject({ ok: false, storeError: true, code: 'unreachable' });
    const after = await storeState(rig.store, ['demo/cors', 'demo/blocked']);
    expect(after).toEqual(before);
    expect(after.experiments).not.toContain('demo/blocked');

    // the same token from the allowed origin logs (the refusal was the origin's)
    allowed.page('/allowed.html', clientPage(rig.server.url, { tfjs: false }));
    await rig.page.goto(`${allowed.origin}/allowed.html`);
    await rig.page.waitForFunction(() => (globalThis as any).otReady === true);
    await installOutcome(rig.page);
    const ok = (await rig.page.evaluate(
      async ({ url, token }) => {
        const g = globalThis as any;
        const om = g.ot.omega({ store: url, token });
        const r = await g.outcome(
          om.runtime.experiment('demo/allowed').run((e: any) => e.logMetric('loss', 1)),
        );
        await om.close();
        return r;
      },
      { url: rig.server.url, token },
    )) as ClientOutcome;
    expect(ok).toMatchObject({ ok: true });
    const allowedState = await storeState(rig.store, ['demo/allowed']);
    expect(allowedState.events['demo/allowed'].writers).toEqual(['demo-page']);
  });
});

describe('a page calling a loopback server without a token', () => {
  let rig: BrowserRig;

  beforeAll(async () => {
    // the page's origin is allowed (CORS lets it read answers): only the missing token stops it
    rig = await startBrowserRig();
    await seedRun(rig.store, 'demo/keep', [0.6, 0.3]);
    await rig.open('/tokenless.html');
    await installOutcome(rig.page);
  });

  afterAll(async () => {
    await rig?.close();
  });

  test('from Chromium, is not the loopback admin `local`: the client and raw requests get 401, nothing is stored or deleted', async () => {
    const before = await storeState(rig.store, ['demo/keep', 'demo/tokenless']);
    const client = (await rig.page.evaluate(async (url) => {
      const g = globalThis as any;
      const om = g.ot.omega({ store: url });
      const out = {
        run: await g.outcome(om.runtime.experiment('demo/tokenless').run((e: any) => e.logMetric('loss', 1))),
        read: await g.outcome(om.runtime.experiment('demo/keep').data()),
      };
      await om.close();
      return out;
    }, rig.server.url)) as Record<string, ClientOutcome>;
    for (const k of ['run', 'read'])
      expect(client[k]).toMatchObject({ ok: false, storeError: true, code: 'unauthorized' });

    const url = rig.server.url;
    const raw = {
      who: await pageFetch(rig.page, `${url}/api/v1/server`),
      list: await pageFetch(rig.page, `${url}/api/v1/experiments`),
      start: await pageFetch(rig.page, `${url}/api/v1/experiments/${enc('demo/tokenless')}/runs`, {
        method: 'POST',
        body: startBody(),
      }),
      deleteEvents: await pageFetch(rig.page, `${url}/api/v1/experiments/${enc('demo/keep')}/events`, {
        method: 'DELETE',
      }),
      deleteRun: await pageFetch(rig.page, `${url}/api/v1/experiments/${enc('demo/keep')}/runs/1`, {
        method: 'DELETE',
      }),
      ui: await pageFetch(rig.page, `${url}/api/experiments`),
    };
    for (const answer of Object.values(raw)) {
      expect(answer.status).toBe(401);
      expect(answer.text).not.toContain('demo/keep');
    }
    expect(await storeState(rig.store, ['demo/keep', 'demo/tokenless'])).toEqual(before);
  });

  test('from Node: a request with an Origin header of another page is refused; without Origin (or with the server’s own) it is `local`', async () => {
    const url = rig.server.url;
    const who = (headers: Record<string, string>) =>
      fetch(`${url}/api/v1/server`, { headers }).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      }));
    for (const origin of [rig.pages.origin, 'http://localhost:9', 'null']) {
      expect(await who({ origin })).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
      const start = await fetch(`${url}/api/v1/experiments/${enc('demo/node')}/runs`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json' },
        body: startBody(),
      });
      expect(start.status).toBe(401);
      const del = await fetch(`${url}/api/v1/experiments/${enc('demo/keep')}/events`, {
        method: 'DELETE',
        headers: { origin },
      });
      expect(del.status).toBe(401);
    }
    expect((await storeState(rig.store, ['demo/node'])).events['demo/node'].lines).toEqual([]);

    // a program on this machine sends no Origin: it is the tokenless admin
    expect(await who({})).toMatchObject({ status: 200, body: { writer: 'local', role: 'admin' } });
    // so are the server's own pages (its web UI)
    expect(await who({ origin: url })).toMatchObject({
      status: 200,
      body: { writer: 'local', role: 'admin' },
    });
    const start = await fetch(`${url}/api/v1/experiments/${enc('demo/node')}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: startBody(),
    });
    expect(start.status).toBe(200);
    const { run } = (await start.json()) as { run: number };
    const state = await storeState(rig.store, ['demo/node']);
    expect(state.events['demo/node'].lines).toEqual([`${run}:start:start=null`]);
    expect(state.events['demo/node'].writers).toEqual(['local']);
  });
});
