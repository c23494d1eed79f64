/** `omega-track server`'s transport: CORS off unless origins are listed, TLS with a certificate, clean stops. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import { cliBin } from '../cli/cliRunner';
import path from 'node:path';
import { startTeamServer } from '../helpers/teamServer';
import { tempDir } from '../helpers/tmp';
import { call } from './api';

let tmp: ReturnType<typeof tempDir>;
let store: string;

beforeAll(() => {
  tmp = tempDir('omega-server-t-');
  store = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
});
afterAll(() => tmp?.cleanup());

const ORIGIN = 'https://app.example:8443';

/** A CORS preflight for a POST with a bearer token from `origin`. */
function preflight(url: string, origin: string) {
  return fetch(`${url}/api/v1/experiments/x/events`, {
    method: 'OPTIONS',
    headers: {
      Origin: origin,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization,content-type',
    },
  });
}

describe('CORS', () => {
  test('off by default: no page of another origin is let in', async () => {
    const server = await startTeamServer({ store });
    try {
      // a page of another origin is not the tokenless loopback admin either: it needs a token
      const a = await call(server.url, '/api/v1/server', { headers: { Origin: ORIGIN } });
      expect(a.status).toBe(401);
      expect(a.headers.get('access-control-allow-origin')).toBeNull();
      const pre = await preflight(server.url, ORIGIN);
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
      expect(pre.status).toBeGreaterThanOrEqual(400);
    } finally {
      await server.close();
    }
  });

  test('--cors-origin lets that origin in, with Authorization; any other stays out', async () => {
    const server = await startTeamServer({ store, args: ['--cors-origin', ORIGIN] });
    try {
      const pre = await preflight(server.url, ORIGIN);
      expect(pre.status).toBeLessThan(300);
      expect(pre.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
      const a = await call(server.url, '/api/v1/server', { headers: { Origin: ORIGIN } });
      expect(a.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      const other = await preflight(server.url, 'https://evil.example');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const b = await call(server.url, '/api/v1/server', { headers: { Origin: 'https://evil.example' } });
      expect(b.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await server.close();
    }
  });
});

describe('TLS', () => {
  test('--tls-cert/--tls-key: the API over HTTPS with the given certificate', async () => {
    const cert = path.join(tmp.dir, 'cert.pem');
    const key = path.join(tmp.dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    const server = await startTeamServer({ store, args: ['--tls-cert', cert, '--tls-key', key] });
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const ca = fs.readFileSync(cert);
      const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        https
          .get(`${server.url}/api/v1/server`, { ca }, (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          })
          .on('error', reject);
      });
      expect(body.status).toBe(200);
      expect(JSON.parse(body.text)).toMatchObject({ api: 1 });
      // plain HTTP on the TLS port is not served
      await expect(fetch(server.url.replace('https:', 'http:') + '/api/v1/server')).rejects.toThrow();
      // the page opened with a token keeps it in a cookie that never goes over plain HTTP
      const token = cliBin(['token', 'create', 'tls-reader', '--role', 'read', '--store', store]).out.trim();
      const cookie = await new Promise<string | undefined>((resolve, reject) => {
        https
          .get(`${server.url}/?token=${encodeURIComponent(token)}`, { ca }, (res) => {
            res.resume();
            resolve(res.headers['set-cookie']?.[0]);
          })
          .on('error', reject);
      });
      expect(cookie).toMatch(/^omega_ui_token=.*; HttpOnly; SameSite=Strict; Secure$/);
    } finally {
      await server.close();
    }
  });

  test('one of the two files only, or a file that is no certificate: the server says so and exits', async () => {
    await expect(
      startTeamServer({ store, args: ['--tls-cert', path.join(tmp.dir, 'cert.pem')] }),
    ).rejects.toThrow(/both --tls-cert and --tls-key/);
    await expect(
      startTeamServer({
        store,
        args: ['--tls-cert', path.join(tmp.dir, 'nope.pem'), '--tls-key', path.join(tmp.dir, 'nope.pem')],
      }),
    ).rejects.toThrow(/cannot be read/);
    const junk = path.join(tmp.dir, 'junk.pem');
    fs.writeFileSync(junk, 'not a certificate\n');
    await expect(startTeamServer({ store, args: ['--tls-cert', junk, '--tls-key', junk] })).rejects.toThrow(
      /TLS/,
    );
  });
});

test('SIGINT and SIGTERM stop the server cleanly (exit 0); the store stays whole', async () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const server = await startTeamServer({ store });
    expect((await call(server.url, '/api/v1/server')).status).toBe(200);
    expect(await server.kill(signal)).toEqual({ code: 0, signal: null });
  }
});
