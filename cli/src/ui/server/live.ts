/**
 * Live updates, pushed: Server-Sent Events telling open pages that an experiment's data changed.
 * While anyone listens, the server compares each watched experiment's change mark (a cheap read
 * of the store's chunk index) every `intervalMs`; a new mark is one `update` event to the pages
 * that watch that experiment, or all experiments. Nothing is polled while nobody listens.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { COMMON_HEADERS, DATA_CSP } from './respond';

/** The headers of an event stream. */
const STREAM_HEADERS = {
  ...COMMON_HEADERS,
  'Content-Security-Policy': DATA_CSP,
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-store',
  Connection: 'keep-alive',
  // proxies such as nginx would otherwise hold the events back
  'X-Accel-Buffering': 'no',
};

/** What the hub watches. */
export interface LiveSource {
  /** The experiments there are now. */
  experiments(): Promise<string[]>;
  /** A text that changes whenever the experiment's events change; undefined when it cannot be told. */
  mark(experiment: string): Promise<string | undefined>;
}

/** Options of the hub. */
export interface LiveOptions {
  /** How often the marks are compared while someone listens (default 500 ms). */
  intervalMs?: number;
  /** How often a comment keeps idle connections (and proxies) open (default 15 s). */
  pingMs?: number;
  /** Where failures to read a mark go (default: nowhere; the next round tries again). */
  onError?: (error: unknown) => void;
}

interface Listener {
  res: ServerResponse;
  /** The experiment watched; undefined for all of them. */
  experiment: string | undefined;
  /** Which experiments the listener may hear of (a token limited to some experiments). */
  visible: (experiment: string) => boolean;
}

/** How long a poke() waits for more writes to come before it compares the marks. */
const POKE_DELAY_MS = 20;

/** The Server-Sent Events hub of one UI server. */
export class LiveHub {
  private readonly listeners = new Set<Listener>();
  /** The last mark seen per experiment. */
  private readonly marks = new Map<string, string | undefined>();
  /** The experiments seen by the last round that watched all of them. */
  private known: Set<string> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private busy = false;
  private closed = false;
  /** A round asked for by poke(), due shortly. */
  private poked: NodeJS.Timeout | undefined;
  /** poke() came while a round ran: run another one after it. */
  private again = false;
  private readonly intervalMs: number;
  private readonly pingMs: number;

  constructor(
    private readonly source: LiveSource,
    private readonly opts: LiveOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 500;
    this.pingMs = opts.pingMs ?? 15_000;
  }

  /** How many pages listen now. */
  get size(): number {
    return this.listeners.size;
  }

  /**
   * Answers `req` with an event stream for `experiment` (all experiments when undefined). The
   * marks are read before the stream opens, so whatever changes after the page sees it open is
   * told.
   */
  async subscribe(
    req: IncomingMessage,
    res: ServerResponse,
    experiment: string | undefined,
    head = false,
    visible: (experiment: string) => boolean = () => true,
  ): Promise<void> {
    if (this.closed) {
      res.writeHead(503, { ...COMMON_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('the server is closing\n');
      return;
    }
    // HEAD: the stream's headers, and no stream (nothing is watched for it)
    if (head) {
      res.writeHead(200, STREAM_HEADERS);
      res.end();
      return;
    }
    if (experiment !== undefined) {
      if (!this.marks.has(experiment)) this.marks.set(experiment, await this.readMark(experiment));
    } else await this.baselineAll();
    res.writeHead(200, STREAM_HEADERS);
    // the browser reconnects after 2 s when the connection drops
    res.write(`retry: 2000\nevent: ready\ndata: ${JSON.stringify({ experiment: experiment ?? null })}\n\n`);
    const listener: Listener = { res, experiment, visible };
    this.listeners.add(listener);
    const drop = (): void => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
    req.on('close', drop);
    res.on('close', drop);
    this.start();
  }

  /**
   * Something was written through this server (the team server's write API): compare the marks
   * now rather than at the next tick, so its pages hear of it at once. Writes in a burst share
   * one round (at most one per POKE_DELAY_MS); writes from elsewhere are still found by the tick.
   */
  poke(): void {
    if (this.closed || this.listeners.size === 0 || this.poked) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.poked = setTimeout(() => {
      this.poked = undefined;
      void this.round();
    }, POKE_DELAY_MS);
    this.poked.unref();
  }

  /** Ends every stream and stops watching. */
  close(): void {
    this.closed = true;
    for (const l of this.listeners) l.res.end();
    this.listeners.clear();
    this.stop();
  }

  private start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.round(), this.intervalMs);
    this.pinger = setInterval(() => {
      for (const l of this.listeners) l.res.write(': ping\n\n');
    }, this.pingMs);
    // a server being closed is not kept open by its watch
    this.timer.unref();
    this.pinger.unref();
  }

  private stop(): void {
    if (this.poked) clearTimeout(this.poked);
    this.poked = undefined;
    this.again = false;
    if (this.timer) clearInterval(this.timer);
    if (this.pinger) clearInterval(this.pinger);
    this.timer = undefined;
    this.pinger = undefined;
    this.known = undefined;
    this.marks.clear();
  }

  private async readMark(experiment: string): Promise<string | undefined> {
    try {
      return await this.source.mark(experiment);
    } catch (error) {
      this.opts.onError?.(error);
      return undefined;
    }
  }

  private async baselineAll(): Promise<void> {
    if (this.known) return;
    const names = await this.source.experiments();
    for (const name of names) if (!this.marks.has(name)) this.marks.set(name, await this.readMark(name));
    this.known = new Set(names);
  }

  /** One comparison of the watched experiments' marks; a change goes to whoever watches it. */
  private async round(): Promise<void> {
    // a slow store must not stack rounds on top of each other
    if (this.busy || this.listeners.size === 0) return;
    this.busy = true;
    try {
      const all = [...this.listeners].some((l) => l.experiment === undefined);
      const watched = new Set<string>();
      for (const l of this.listeners) if (l.experiment !== undefined) watched.add(l.experiment);
      let fresh = new Set<string>();
      if (all) {
        const names = await this.source.experiments();
        fresh = new Set(names.filter((n) => this.known !== undefined && !this.known.has(n)));
        this.known = new Set(names);
        for (const n of names) watched.add(n);
      }
      const changed: string[] = [];
      for (const name of watched) {
        const mark = await this.readMark(name);
        const seen = this.marks.has(name);
        const before = this.marks.get(name);
        this.marks.set(name, mark);
        if (fresh.has(name) || (seen && mark !== before)) changed.push(name);
      }
      if (changed.length) this.tell(changed);
    } catch (error) {
      this.opts.onError?.(error);
    } finally {
      this.busy = false;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    }
  }

  private tell(changed: readonly string[]): void {
    const at = new Date().toISOString();
    for (const name of changed) {
      const text = `event: update\ndata: ${JSON.stringify({ experiment: name, at })}\n\n`;
      for (const l of this.listeners)
        if ((l.experiment === undefined || l.experiment === name) && l.visible(name)) l.res.write(text);
    }
  }
}
