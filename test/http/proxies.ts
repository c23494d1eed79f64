import http from 'node:http';
import net from 'node:net';

/** A proxy in front of a server on loopback, stopped by `close()`. */
export interface Proxy {
  port: number;
  url: string;
  close: () => Promise<void>;
}

async function listen(server: net.Server | http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/**
 * A TCP proxy that loses answers: the first `cuts` requests whose request line matches `cut`
 * reach the server whole, but the connection is cut as the server's answer starts, so the
 * client never learns that the server did its work. Everything else passes.
 */
export async function answerLosingProxy(
  targetPort: number,
  cut: RegExp,
  cuts: number,
): Promise<Proxy & { cut: () => number }> {
  let done = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let cutting = false;
    client.on('data', (chunk: Buffer) => {
      if (!cutting && done < cuts && cut.test(chunk.subarray(0, 512).toString('latin1'))) {
        cutting = true;
        done++;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (cutting) {
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  const port = await listen(server);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    cut: () => done,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * An HTTP proxy that answers 503 to requests matching `refuse` while `refusing` is set (the
 * server's store busy, say), and passes everything else to the server.
 */
export async function refusingProxy(
  targetPort: number,
  refuse: (req: http.IncomingMessage) => boolean,
): Promise<Proxy & { refusing: boolean; refused: number }> {
  const state = { refusing: true, refused: 0 };
  const server = http.createServer((req, res) => {
    if (state.refusing && refuse(req)) {
      state.refused++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'busy (test proxy)', code: 'store-locked' }));
      return;
    }
    const upstream = http.request(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 100;
  const port = await listen(server);
  const proxy = {
    port,
    url: `http://127.0.0.1:${port}`,
    get refusing() {
      return state.refusing;
    },
    set refusing(v: boolean) {
      state.refusing = v;
    },
    get refused() {
      return state.refused;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}

/**
 * An HTTP proxy that drops the last line of every events query's answer (its end line), as a
 * server that died mid-answer behind a proxy that ended the response cleanly would.
 */
export async function endLineDroppingProxy(targetPort: number): Promise<Proxy> {
  const server = http.createServer((req, res) => {
    const upstream = http.request(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        if (!/\/events\/query$/.test(req.url ?? '')) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          return;
        }
        const parts: Buffer[] = [];
        answer.on('data', (d: Buffer) => parts.push(d));
        answer.on('end', () => {
          const lines = Buffer.concat(parts).toString('utf8').trimEnd().split('\n');
          const headers = { ...answer.headers };
          delete headers['content-length'];
          res.writeHead(answer.statusCode ?? 502, headers);
          res.end(
            lines
              .slice(0, -1)
              .map((l) => `${l}\n`)
              .join(''),
          );
        });
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const port = await listen(server);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
