/**
 * `kiln board`'s web server (node:http): the page (src/board/page/), uPlot from
 * its installed package, and a small JSON/binary API over a `LogDir` that is
 * refreshed every `reloadMillis`; the page hears of new data through a
 * server-sent event stream. Binds 127.0.0.1 unless told otherwise.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { KilnError } from '../../compiler/errors.js';
import { packagePath } from '../../compiler/packageFiles.js';
import { graphLayout, hparamsTable, histograms, imageBytes, imageSteps, index, scalarsBuffer, texts } from './api.js';
import { LogDir } from './logDir.js';

export interface BoardOptions {
  /** The log folder: every folder below it with event files is a run. */
  logDir: string;
  /** Default 6006 (TensorBoard's); 0 picks a free port. */
  port?: number;
  /** Default '127.0.0.1' (this machine only). */
  host?: string;
  /** How often the folder is read again for new events (default 1000 ms). */
  reloadMillis?: number;
}

/** A running board: its address, the log folder it reads, and `close()`. */
export interface Board {
  readonly url: string;
  readonly port: number;
  readonly logs: LogDir;
  readonly server: Server;
  close(): Promise<void>;
}

/** The page's files: src/board/page in the package (shipped as they are; tsc does not copy them). */
function pageDir(): string {
  const dir = packagePath('src', 'board', 'page');
  if (!existsSync(join(dir, 'index.html'))) throw new Error(`internal: kiln board's page is missing from ${dir}`);
  return dir;
}

const require = createRequire(import.meta.url);
const assets: Record<string, () => [string, string]> = {
  '/': () => [join(pageDir(), 'index.html'), 'text/html; charset=utf-8'],
  '/board.js': () => [join(pageDir(), 'board.js'), 'text/javascript; charset=utf-8'],
  '/board.css': () => [join(pageDir(), 'board.css'), 'text/css; charset=utf-8'],
  '/uplot.js': () => [require.resolve('uplot/dist/uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
  '/uplot.css': () => [require.resolve('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8'],
};

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

const json = (res: ServerResponse, value: unknown) => send(res, 200, 'application/json', JSON.stringify(value));

/** Routes one API request; false when the path is not an API path. */
function api(logs: LogDir, url: URL, res: ServerResponse): boolean {
  const q = (name: string) => url.searchParams.get(name) ?? '';
  const int = (name: string, fallback: number) => { const v = Number(url.searchParams.get(name)); return Number.isInteger(v) && v > 0 ? v : fallback; };
  switch (url.pathname) {
    case '/api/index': json(res, index(logs)); return true;
    case '/api/scalars': send(res, 200, 'application/octet-stream', scalarsBuffer(logs, q('tag'), int('points', 2000))); return true;
    case '/api/histograms': json(res, histograms(logs, q('run'), q('tag'))); return true;
    case '/api/images': json(res, imageSteps(logs, q('run'), q('tag'))); return true;
    case '/api/image': {
      const png = imageBytes(logs, q('run'), q('tag'), Number(q('index')), Number(q('sample') || 0));
      if (png) send(res, 200, 'image/png', png);
      else send(res, 404, 'text/plain', 'no such image');
      return true;
    }
    case '/api/text': json(res, texts(logs, q('run'), q('tag'))); return true;
    case '/api/graph': json(res, graphLayout(logs, q('run'), q('level') === 'ops' ? 'ops' : 'layers')); return true;
    case '/api/hparams': json(res, hparamsTable(logs)); return true;
    default: return false;
  }
}

/**
 * Reads the log folder, then serves the board until `close()`.
 * @example
 * const board = await startBoard({ logDir: 'logs', port: 6006 });
 * console.log(`open ${board.url}`);
 */
export async function startBoard(options: BoardOptions): Promise<Board> {
  const { logDir, port = 6006, host = '127.0.0.1', reloadMillis = 1000 } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new KilnError(`kiln board: --port expects an integer from 0 to 65535, got ${port}.`);
  const logs = new LogDir(logDir);
  await logs.check();
  await logs.refresh();
  const listeners = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://board');
    try {
      if (url.pathname === '/api/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write(`data: ${logs.version}\n\n`);
        listeners.add(res);
        req.on('close', () => listeners.delete(res));
        return;
      }
      if (api(logs, url, res)) return;
      if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
      const asset = Object.hasOwn(assets, url.pathname) ? assets[url.pathname]!() : undefined;
      if (!asset) return send(res, 404, 'text/plain', `not found: ${url.pathname}`);
      readFile(asset[0]).then((body) => send(res, 200, asset[1], body), (e: Error) => send(res, 500, 'text/plain', e.message));
    } catch (e) {
      send(res, 500, 'text/plain', `kiln board: ${(e as Error).message}`); // a bug in one request must not stop the board
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new KilnError(`kiln board: port ${port} on ${host} is already in use; pass --port with another port (or --port 0 for any free one).`));
      else if (e.code === 'EACCES') reject(new KilnError(`kiln board: not allowed to listen on port ${port} on ${host}; pass --port with a port above 1023.`));
      else reject(new KilnError(`kiln board: cannot listen on ${host}:${port} (${e.message}).`));
    });
    server.listen(port, host, () => resolve());
  });
  let reading = false;
  const timer = setInterval(() => {
    if (reading) return;
    reading = true;
    logs.refresh().then((changed) => {
      if (changed) for (const res of listeners) res.write(`data: ${logs.version}\n\n`);
    }).catch(() => {}).finally(() => (reading = false)); // a folder being deleted under us: try again next time
  }, reloadMillis);
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}/`,
    port: boundPort,
    logs,
    server,
    close: () => {
      clearInterval(timer);
      for (const res of listeners) res.end();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
