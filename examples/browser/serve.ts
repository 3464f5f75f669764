/**
 * A tiny static file server (node:http, no dependencies) for the built example:
 *
 *   node dist/examples/browser/serve.js [dir] [--port 8080]
 *
 * Serves GET/HEAD of files under `dir` only, with the MIME types the page needs
 * (`application/wasm` matters for streaming compilation; `text/javascript` for
 * module scripts, which browsers refuse under other types).
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
};

/** Serves `dir` on host:port (port 0: any free port); resolves once listening, with the page's URL. */
export function serve(dir: string, options: { port?: number; host?: string } = {}): Promise<{ server: Server; url: string }> {
  const root = resolve(dir);
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    const send = (status: number, text: string) => response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(405, 'method not allowed\n');
    if (file !== root && !file.startsWith(root + sep)) return send(403, 'forbidden\n'); // no ../ out of the folder
    let size: number;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) return send(404, 'not found\n');
      size = stat.size;
    } catch {
      return send(404, 'not found\n');
    }
    response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'content-length': size, 'cache-control': 'no-cache' });
    if (request.method === 'HEAD') return response.end();
    createReadStream(file).pipe(response);
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
      const { address, port } = server.address() as AddressInfo;
      done({ server, url: `http://${address.includes(':') ? `[${address}]` : address}:${port}/` });
    });
  });
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--port');
  const port = at >= 0 ? Number(args[at + 1]) : 8080;
  const dir = args.find((a, i) => !a.startsWith('--') && (at < 0 || i !== at + 1)) ?? fileURLToPath(new URL('../../../examples/browser/site', import.meta.url));
  const { url } = await serve(dir, { port });
  console.log(`serving ${resolve(dir)} at ${url} (Ctrl-C stops)`);
}
