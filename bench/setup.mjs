// Installs the benchmark peers (bench/package.json: TensorFlow.js, onnxruntime) into
// bench/node_modules, exactly as bench/package-lock.json locks them, when they are
// missing or the lock file changed since the last install. `npm run bench` runs it
// first; kiln's own install never downloads them.
//
// onnxruntime-node ships its CPU binaries inside the npm package; its install script
// would fetch optional GPU libraries from a host outside the npm registry, so it is
// told to skip that (ONNXRUNTIME_NODE_INSTALL=skip).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bench = dirname(fileURLToPath(import.meta.url));
const lock = createHash('sha256').update(readFileSync(join(bench, 'package-lock.json'))).digest('hex');
const stamp = join(bench, 'node_modules', '.kiln-bench-lock');

if (existsSync(stamp) && readFileSync(stamp, 'utf8') === lock) process.exit(0);
process.stderr.write('bench: installing the benchmark peers into bench/node_modules (npm ci)…\n');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], {
  cwd: bench,
  stdio: 'inherit',
  shell: process.platform === 'win32',
  env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
});
if (result.status !== 0) {
  process.stderr.write(`bench: npm ci in ${bench} failed (${result.error?.message ?? `exit code ${result.status}`}).\n`);
  process.exit(1);
}
writeFileSync(stamp, lock);
