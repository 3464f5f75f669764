// Size report: lines per file and per folder, the op count and the kernel count,
// so growth stays visible (npm run size).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';

const roots = ['compiler', 'src', 'runtime-as', 'test', 'bench', 'scripts'];
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.(ts|mjs|js)$/.test(name)) files.push({ path, lines: readFileSync(path, 'utf8').split('\n').length });
  }
};
for (const root of roots) {
  try { walk(root); } catch { /* folder not there yet */ }
}
const folders = new Map();
for (const f of files) folders.set(dirname(f.path), (folders.get(dirname(f.path)) ?? 0) + f.lines);

const opFiles = readdirSync('compiler/ops').filter((f) => f.endsWith('.ts'));
// the op table itself, from the build (npm run size builds first)
const { opNames, isElementwise } = await import('../dist/compiler/ops/index.js');
const kernels = files.filter((f) => f.path.startsWith('runtime-as')).length;

console.log('lines  file');
for (const f of files.sort((a, b) => b.lines - a.lines)) console.log(`${String(f.lines).padStart(5)}  ${f.path}${f.lines > 800 ? '   <- over 800 lines' : ''}`);
console.log('\nlines  folder');
for (const [dir, lines] of [...folders].sort()) console.log(`${String(lines).padStart(5)}  ${dir}/`);
console.log(`\nprimitive ops: ${opNames.length} (${opNames.filter(isElementwise).length} with a fused-loop emit rule) in ${opFiles.length} files; kernel source files: ${kernels}`);
