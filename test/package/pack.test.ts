/**
 * kiln as a user installs it: `npm pack` (which builds first) and `npm install
 * <tarball>` into a new project (./consumer.ts), then, as that project: a
 * Keras-style fit → predict → export → kiln/runtime loadArtifact → the same
 * predictions; a PyTorch-style loop; `npx kiln info`; `kiln board`; kiln with its compiler
 * nested under it or missing; and a strict TypeScript (nodenext) check of the
 * READMEs' snippets against the package's declarations.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cleanEnv, packedConsumer, repoRoot, run, type PackedConsumer } from './consumer.js';
import { readmeSnippets } from './readme.js';

let consumer: PackedConsumer;
beforeAll(async () => {
  consumer = await packedConsumer();
}, 300_000);

/** Every file under `dir` with its size and modification time. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).map((e) => {
    const path = join(e.parentPath, e.name);
    const s = statSync(path);
    return `${relative(dir, path)} ${s.size} ${s.mtimeMs}`;
  }).sort();
}

/** Runs `node <script>` in `cwd`; its last stdout line parsed as JSON. */
function runScript(cwd: string, name: string, source: string, env = cleanEnv()): Record<string, unknown> {
  writeFileSync(join(cwd, name), source);
  const result = run(process.execPath, [name], cwd, env, 100_000);
  if (result.status !== 0) throw new Error(`${name} failed (exit ${result.status}):\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

const decreasing = (losses: number[]) => losses.at(-1)! < losses[0]!;

describe('npm pack', () => {
  test('builds first and ships exactly the compiled library, its declarations, kernels, data and documents', () => {
    const { files } = consumer;
    const allowed = [/^dist\/(src|compiler)\/.+\.(js|d\.ts)$/, /^runtime-as\/[\w-]+\.ts$/, /^data\/fashion-mnist\/[\w.-]+$/, /^src\/board\/page\/[\w.-]+$/, /^(README\.md|LICENSE|CHANGELOG\.md|package\.json)$/];
    expect(files.filter((f) => !allowed.some((a) => a.test(f)))).toEqual([]);
    // every source module of the library, compiled, with its declarations
    const modules = (dir: string) => readdirSync(join(repoRoot, dir), { recursive: true }).map(String).filter((f) => f.endsWith('.ts')).map((f) => `${dir}/${f.slice(0, -3)}`);
    const expected = [...modules('src'), ...modules('compiler')].flatMap((m) => [`dist/${m}.js`, `dist/${m}.d.ts`]);
    expect(expected.filter((f) => !files.includes(f))).toEqual([]);
    const kernels = readdirSync(join(repoRoot, 'runtime-as')).filter((f) => f.endsWith('.ts')).map((f) => `runtime-as/${f}`);
    expect(kernels.length).toBeGreaterThan(4);
    expect(kernels.filter((f) => !files.includes(f))).toEqual([]);
    for (const f of ['src/board/page/index.html', 'src/board/page/board.js', 'src/board/page/board.css']) expect(files).toContain(f); // kiln board's page
    for (const f of ['data/fashion-mnist/t10k-images-idx3-ubyte.gz', 'data/fashion-mnist/t10k-labels-idx1-ubyte.gz', 'data/fashion-mnist/COPYRIGHT', 'README.md', 'LICENSE', 'CHANGELOG.md']) expect(files).toContain(f);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    const installed = JSON.parse(readFileSync(join(consumer.dir, 'node_modules', 'kiln', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(installed.dependencies)).toContain('assemblyscript');
    console.log(`kiln tarball: ${(consumer.size / 1024 / 1024).toFixed(2)} MB, ${files.length} files`);
  });
});

describe('kiln installed in a project', () => {
  let work = '';
  let kilnDir = '';
  let before: string[] = [];
  beforeAll(() => {
    work = mkdtempSync(join(consumer.dir, 'use-'));
    kilnDir = join(consumer.dir, 'node_modules', 'kiln');
    before = snapshot(kilnDir);
    chmodSync(kilnDir, 0o555); // read-only (binding for users other than root): kiln must write nothing into its own folder
  });
  afterAll(() => {
    if (kilnDir) chmodSync(kilnDir, 0o755);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('Keras style: fit, predict, export, then kiln/runtime loads the artifact and predicts the same values', () => {
    const env = cleanEnv({ XDG_CACHE_HOME: join(work, 'xdg') });
    delete env.KILN_CACHE_DIR;
    const out = runScript(work, 'keras.mjs', `
import * as kiln from 'kiln';
import { loadArtifact } from 'kiln/runtime';
import { readFileSync } from 'node:fs';
const { train, test, classNames } = await kiln.datasets.fashionMnist.load(); // the data shipped in the package
const x = kiln.slice(train.images, [0], [512]), y = kiln.slice(train.labels, [0], [512]);
const model = kiln.sequential({ layers: [
  kiln.layers.flatten({ inputShape: [28, 28, 1] }),
  kiln.layers.dense({ units: 32, activation: 'relu' }),
  kiln.layers.dense({ units: 10 }),
] });
model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 1e-2 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
const history = await model.fit(x, y, { epochs: 3, batchSize: 64 });
const [, accuracy] = await model.evaluate(test.images, test.labels);
const images = kiln.slice(test.images, [0], [100]);
const logits = model.predict(images, { batchSize: 64 }).dataSync(); // the artifact's maxBatch: the same batches
await model.export('net.kiln-artifact');
const net = await loadArtifact(new Uint8Array(readFileSync('net.kiln-artifact')));
const out = net.predict(images.dataSync());
console.log(JSON.stringify({ loss: history.history.loss, accuracy: accuracy.dataSync()[0], classes: classNames.length,
  shape: out.shape, differing: out.data.filter((v, i) => !Object.is(v, logits[i])).length, first: Array.from(out.data.slice(0, 3)) }));
`, env);
    expect(out.classes).toBe(10);
    expect(decreasing(out.loss as number[])).toBe(true);
    expect(out.accuracy).toBeGreaterThan(0.5); // 512 images, 3 epochs: about 0.67
    expect(out.shape).toEqual([100, 10]);
    expect(out.differing).toBe(0);
    expect((out.first as number[]).every(Number.isFinite)).toBe(true);
    // the compiled module went to the documented cache folder, $XDG_CACHE_HOME/kiln
    expect(readdirSync(join(work, 'xdg', 'kiln')).filter((f) => f.endsWith('.wasm')).length).toBeGreaterThan(0);
  }, 120_000);

  test('PyTorch style: a training loop of a few steps lowers the loss', () => {
    const out = runScript(work, 'torch.mjs', `
import * as kiln from 'kiln';
const { nn, optim } = kiln;
class Net extends nn.Module {
  fc1 = new nn.Linear(784, 32);
  fc2 = new nn.Linear(32, 10);
  forward(x) { return this.fc2.forward(nn.functional.relu(this.fc1.forward(x))); }
}
const { train } = await kiln.datasets.fashionMnist.load();
const xs = kiln.reshape(kiln.slice(train.images, [0], [256]), [256, 784]), ys = kiln.slice(train.labels, [0], [256]);
const model = new Net();
const optimizer = new optim.Adam(model.parameters(), { lr: 1e-2 });
const losses = [];
for (let epoch = 0; epoch < 3; epoch++) {
  for (const [x, y] of new kiln.utils.data.DataLoader(new kiln.utils.data.TensorDataset(xs, ys), { batchSize: 64, shuffle: true, seed: epoch })) {
    optimizer.zeroGrad();
    const loss = nn.functional.crossEntropy(model.forward(x), y);
    loss.backward();
    await optimizer.step();
    losses.push(await loss.item());
  }
}
console.log(JSON.stringify({ losses }));
`);
    const losses = out.losses as number[];
    expect(losses).toHaveLength(12);
    expect(losses.every(Number.isFinite)).toBe(true);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(losses.slice(-4))).toBeLessThan(mean(losses.slice(0, 4)) * 0.8);
  }, 120_000);

  test('imageDatasetFromDirectory (decoding in the installed dist/src/io/decodeWorker.js) gives the pixels decodeImage gives', () => {
    const out = runScript(work, 'images.mjs', `
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from 'fast-png';
import * as kiln from 'kiln';
for (const c of ['a', 'b']) mkdirSync(join('imgs', c), { recursive: true });
const pixels = (k) => Uint8Array.from({ length: 48 }, (_, i) => (i * 7 + k * 31) % 256);
for (let k = 0; k < 6; k++) writeFileSync(join('imgs', k % 2 ? 'b' : 'a', k + '.png'), encode({ width: 4, height: 4, data: pixels(k), channels: 3, depth: 8 }));
const ds = await kiln.utils.imageDatasetFromDirectory('imgs', { imageSize: [4, 4], batchSize: 6, shuffle: false });
const [x, y] = (await ds.toArray())[0];
const files = ds.filePaths;
const direct = files.map((f) => Array.from(kiln.io.decodeImage(readFileSync(f), { channels: 3 }).dataSync()));
console.log(JSON.stringify({ same: JSON.stringify(Array.from(x.dataSync())) === JSON.stringify(direct.flat()), labels: Array.from(y.dataSync())}));
`);
    expect(out.same).toBe(true);
    expect(out.labels).toEqual([0, 0, 0, 1, 1, 1]);
  }, 60_000);

  test('npx kiln info describes the exported artifact', () => {
    expect(existsSync(join(work, 'net.kiln-artifact'))).toBe(true);
    const result = run('npx', ['--no-install', 'kiln', 'info', 'net.kiln-artifact'], work);
    expect(result.stderr.trim()).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/predict/);
    expect(result.stdout).toMatch(/float32\[n,28,28,1\]/);
    expect(result.stdout).toMatch(/float32\[n,10\]/);
    expect(result.stdout).toMatch(/25450/); // 784·32 + 32 + 32·10 + 10 parameters
  });

  test('kiln board (the installed bin) serves its page, and uPlot from its installed package', () => {
    const out = runScript(work, 'board.mjs', `
      import { spawn } from 'node:child_process';
      import { mkdirSync } from 'node:fs';
      mkdirSync('logs', { recursive: true });
      const board = spawn(process.execPath, ['../node_modules/kiln/dist/src/cli.js', 'board', '--logdir', 'logs', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const url = await new Promise((resolve, reject) => {
        let text = '';
        board.stdout.on('data', (d) => { text += d; const m = /open (http:\\S+)/.exec(text); if (m) resolve(m[1]); });
        board.on('exit', (code) => reject(new Error('kiln board exited with ' + code + ': ' + text)));
      });
      const get = async (path) => { const r = await fetch(url + path); return [r.status, (await r.text()).length]; };
      const result = { page: await get(''), script: await get('board.js'), uplot: await get('uplot.js'), index: await (await fetch(url + 'api/index')).json() };
      board.kill('SIGINT');
      console.log(JSON.stringify(result));
    `) as { page: [number, number]; script: [number, number]; uplot: [number, number]; index: { runs: string[] } };
    expect(out.page[0]).toBe(200);
    expect(out.script[0]).toBe(200);
    expect(out.uplot[0]).toBe(200);
    expect(out.uplot[1]).toBeGreaterThan(40_000); // uPlot's minified build
    expect(out.index.runs).toEqual([]);
  });

  test('nothing was written into the installed package folder', () => {
    chmodSync(kilnDir, 0o755);
    expect(snapshot(kilnDir)).toEqual(before);
  });
});

describe('where npm puts the compiler', () => {
  let dir = '';
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'kiln-layout-')); });
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  /** A project at `dir/name` holding a copy of the installed kiln with `nested` of its dependencies under kiln's own node_modules. */
  function project(name: string, nested: string[]): string {
    const root = join(dir, name);
    const kiln = join(root, 'node_modules', 'kiln');
    cpSync(join(consumer.dir, 'node_modules', 'kiln'), kiln, { recursive: true });
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
    mkdirSync(join(kiln, 'node_modules'));
    for (const dep of nested) symlinkSync(join(consumer.dir, 'node_modules', dep), join(kiln, 'node_modules', dep), 'dir');
    return root;
  }
  /** Everything npm installed beside kiln in the consumer (kiln's dependencies and theirs), optionally less the compiler's packages. */
  const installed = (without: readonly string[] = []) =>
    readdirSync(join(consumer.dir, 'node_modules')).filter((d) => !d.startsWith('.') && d !== 'kiln' && !without.includes(d));
  const compiler = ['assemblyscript', 'binaryen', 'long'];
  const compileOne = `
import * as kiln from 'kiln';
try {
  const f = kiln.compile((v) => kiln.relu(kiln.sub(v, 1)));
  console.log(JSON.stringify({ value: (await f(kiln.tensor([0, 2, 3]))).arraySync() }));
} catch (e) {
  console.log(JSON.stringify({ name: e.name, message: e.message }));
}
`;

  test('nested under kiln (not hoisted), the compiler is found by module resolution', () => {
    const root = project('nested', installed());
    const cache = join(root, 'cache');
    expect(runScript(root, 'main.mjs', compileOne, cleanEnv({ KILN_CACHE_DIR: cache }))).toEqual({ value: [0, 1, 2] });
    expect(readdirSync(cache).filter((f) => f.endsWith('.wasm'))).toHaveLength(1); // compiled here, not taken from a cache
  }, 60_000);

  test('with the compiler missing, compiling is a one-line KilnError and the CLI prints one line', () => {
    const root = project('bare', installed(compiler));
    const env = cleanEnv({ KILN_CACHE_DIR: join(root, 'cache') });
    const out = runScript(root, 'main.mjs', compileOne, env);
    expect(out.name).toBe('KilnError');
    expect(out.message).toMatch(/^kiln: the AssemblyScript compiler \(assemblyscript\) cannot be found \(.+\); it is a dependency of kiln: reinstall kiln \(npm install kiln\)\.$/);
    const cli = run(process.execPath, [join(root, 'node_modules', 'kiln', 'dist', 'src', 'cli.js'), 'demo', '--model', 'mlp', '--no-save'], root, env);
    expect(cli.status).not.toBe(0);
    expect(cli.stderr.trim().split('\n')).toEqual([expect.stringMatching(/the AssemblyScript compiler \(assemblyscript\) cannot be found/)]);
  }, 60_000);
});

describe('TypeScript consumer', () => {
  test('the READMEs\' snippets, as written, type-check strictly (module nodenext) against the package', () => {
    const snippets = readmeSnippets(repoRoot);
    expect(snippets.length).toBeGreaterThan(0);
    const dir = mkdtempSync(join(consumer.dir, 'types-'));
    try {
      snippets.forEach((s, i) => writeFileSync(join(dir, `snippet-${i}.ts`), s.code));
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: {
          strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true,
          skipLibCheck: false, types: ['node'], typeRoots: [join(repoRoot, 'node_modules', '@types')],
        },
        include: ['*.ts'],
      }));
      const result = run(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], dir);
      // name each error by the README line its snippet came from
      const report = result.stdout.replace(/snippet-(\d+)\.ts/g, (_, i: string) => `[${snippets[Number(i)]!.where}] snippet-${i}.ts`);
      expect(report).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
