// kiln board's page: plain JavaScript over the server's API (src/board/api.ts) and uPlot.
// Scalars: one uPlot chart a tag, every selected run a raw (faint) and a smoothed line,
// TensorBoard's debiased exponential moving average; charts are drawn when scrolled into view.
// Live: the server's event stream says when new events were read; the page fetches again.
'use strict';

const state = {
  index: undefined,
  tab: 'scalars',
  selected: new Set(),
  smoothing: 0.6,
  xAxis: 'step',
  logScale: false,
  filter: '',
  runFilter: '',
  /** tag -> { card, chart, data (per run {steps, wall, values}), visible } */
  scalarCards: new Map(),
  pending: new Set(),
};
/** What tests and the benchmark read: versions, drawn charts, each tab's last rendered version, time to the first full render. */
const published = (window.kilnBoard = { ready: false, version: -1, drawnVersion: -1, charts: {}, firstRenderMs: undefined, errors: [], rendered: {}, smooth: (values, weight) => Array.from(smooth(values, weight)) });

const palette = ['#e8710a', '#1a73e8', '#12b5cb', '#e52592', '#9334e6', '#7cb342', '#f9ab00', '#5f6368', '#d93025', '#188038',
  '#a142f4', '#24c1e0', '#ff6d00', '#3949ab', '#c0ca33', '#8d6e63', '#00897b', '#f06292', '#546e7a', '#b71c1c'];
const colorOf = (run) => palette[Math.max(0, state.index.runs.indexOf(run)) % palette.length];
const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) k === 'class' ? (e.className = v) : k.startsWith('on') ? e.addEventListener(k.slice(2), v) : e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
};
const q = (params) => new URLSearchParams(params).toString();
const getJson = async (path) => { const r = await fetch(path); if (!r.ok) throw new Error(`${path}: ${r.status}`); return r.json(); };
const tagMatches = (tag) => { try { return new RegExp(state.filter, 'i').test(tag); } catch { return tag.includes(state.filter); } };
const fmt = (v) => (v === null || v === undefined || Number.isNaN(v) ? 'NaN' : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : +v.toFixed(4));

// ---- smoothing: TensorBoard's debiased EMA; non-finite points pass through unsmoothed ----
function smooth(values, weight) {
  const out = new Float64Array(values.length);
  let last = 0, count = 0;
  const constant = values.every((v) => v === values[0]);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v) || constant || weight === 0) { out[i] = v; continue; }
    last = last * weight + (1 - weight) * v;
    count++;
    out[i] = last / (weight === 1 ? 1 : 1 - Math.pow(weight, count));
  }
  return out;
}

// ---- scalars ----
function decodeScalars(buffer) {
  const view = new DataView(buffer);
  const headerLength = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, headerLength)));
  let at = Math.ceil((4 + headerLength) / 8) * 8;
  const runs = new Map();
  for (const { run, length, total } of header.runs) {
    const column = () => { const a = new Float64Array(buffer, at, length); at += length * 8; return a; };
    runs.set(run, { steps: column(), wall: column(), values: column(), total });
  }
  return runs;
}

function xOf(series) {
  if (state.xAxis === 'step') return series.steps;
  if (state.xAxis === 'wall') return series.wall;
  const t0 = series.wall[0];
  return series.wall.map((t) => t - t0);
}

function chartData(card) {
  const runs = [...card.data.keys()].filter((r) => state.selected.has(r));
  const data = [null];
  for (const run of runs) {
    const s = card.data.get(run);
    const x = xOf(s);
    const y = state.logScale ? s.values.map((v) => (v > 0 ? v : NaN)) : s.values;
    const ys = smooth(y, state.smoothing);
    const clean = (a) => (a.every(Number.isFinite) ? a : Array.from(a, (v) => (Number.isFinite(v) ? v : null))); // uPlot skips nulls
    data.push([x, clean(y)], [x, clean(ys)]);
  }
  return { runs, data };
}

function nearest(xs, x) {
  let lo = 0, hi = xs.length - 1;
  while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (xs[mid] < x) lo = mid; else hi = mid; }
  return Math.abs(xs[lo] - x) <= Math.abs(xs[hi] - x) ? lo : hi;
}

function drawScalarChart(tag, card) {
  const { runs, data } = chartData(card);
  card.chart?.destroy();
  const target = card.element.querySelector('.chart');
  target.textContent = '';
  if (runs.length === 0) { target.append(el('div', { class: 'empty-note' }, 'no selected run has this tag')); card.chart = undefined; return; }
  const facets = [{ scale: 'x', auto: true }, { scale: 'y', auto: true }];
  const series = [{}];
  for (const run of runs) {
    series.push({ label: `${run} (raw)`, stroke: colorOf(run) + '40', width: 1, facets, paths: uPlot.paths.linear(), points: { show: false } });
    series.push({ label: run, stroke: colorOf(run), width: 1.5, facets, paths: uPlot.paths.linear(), points: { show: false } });
  }
  const readout = card.element.querySelector('.readout');
  const opts = {
    mode: 2,
    width: target.clientWidth || 440,
    height: 250,
    legend: { show: false },
    cursor: { drag: { x: true, y: false, setScale: true }, points: { show: false } },
    scales: { x: { time: state.xAxis === 'wall', auto: true }, y: { auto: true, distr: state.logScale ? 3 : 1 } },
    axes: [{ label: { step: 'step', relative: 'seconds since the run began', wall: '' }[state.xAxis], size: 40 }, { size: 60 }],
    series,
    hooks: {
      setCursor: [(u) => {
        if (u.cursor.left === undefined || u.cursor.left < 0) return (readout.textContent = '');
        const x = u.posToVal(u.cursor.left, 'x');
        readout.textContent = runs.slice(0, 6).map((run, i) => {
          const [xs, ys] = u.data[2 + 2 * i];
          if (!xs.length) return '';
          const k = nearest(xs, x);
          return `${run.padEnd(14).slice(0, 14)} step ${card.data.get(run).steps[k]}  ${fmt(ys[k])} (raw ${fmt(u.data[1 + 2 * i][1][k])})`;
        }).join('\n') + (runs.length > 6 ? `\n… ${runs.length - 6} more runs` : '');
      }],
    },
  };
  card.chart = new uPlot(opts, data, target);
  published.charts[tag] = { runs, points: data.slice(1).reduce((a, [x]) => a + x.length, 0) / 2 };
}

function loadScalarTag(tag) {
  const card = state.scalarCards.get(tag);
  const version = state.index.version;
  if (card.loading && card.loadingVersion === version) return card.loading; // the observer and a reload may ask at once
  card.loadingVersion = version;
  card.loading = fetchScalarTag(tag, card, version);
  return card.loading;
}

async function fetchScalarTag(tag, card, version) {
  const response = await fetch(`api/scalars?${q({ tag, points: 1000 })}`);
  card.data = decodeScalars(await response.arrayBuffer());
  const sampled = [...card.data.values()].some((s) => s.total > s.steps.length);
  card.element.querySelector('h3').title = sampled ? 'long series: 1000 evenly spaced points a run are shown' : '';
  drawScalarChart(tag, card);
  card.version = version;
}

const observer = new IntersectionObserver((entries) => {
  for (const e of entries) {
    const tag = e.target.dataset.tag;
    const card = state.scalarCards.get(tag);
    if (!card) continue;
    card.visible = e.isIntersecting;
    if (card.visible && card.version !== state.index.version) loadScalarTag(tag).then(checkReady, report);
  }
}, { rootMargin: '200px' });

function renderScalars() {
  const root = $('tab-scalars');
  const tags = Object.keys(state.index.tags.scalars).filter(tagMatches).sort();
  if (tags.length === 0 && !root.querySelector('.card')) root.replaceChildren(el('div', { class: 'empty-note' }, 'No scalars yet.'));
  root.querySelector('.empty-note')?.remove();
  for (const [tag, card] of state.scalarCards) if (!tags.includes(tag)) { card.chart?.destroy(); card.element.remove(); state.scalarCards.delete(tag); observer.unobserve(card.element); }
  for (const tag of tags) {
    if (state.scalarCards.has(tag)) continue;
    const element = el('div', { class: 'card', 'data-tag': tag }, el('h3', {}, tag), el('div', { class: 'chart' }), el('div', { class: 'readout' }));
    element.addEventListener('dblclick', () => drawScalarChart(tag, state.scalarCards.get(tag))); // zoom out
    state.scalarCards.set(tag, { element, data: new Map(), version: -1, visible: false });
    root.append(element);
    observer.observe(element);
  }
  // already visible cards are refreshed now (new data); the observer handles the rest when scrolled to
  return Promise.all([...state.scalarCards].filter(([, c]) => c.visible && c.version !== state.index.version).map(([tag]) => loadScalarTag(tag)));
}

function redrawScalars() {
  for (const [tag, card] of state.scalarCards) if (card.visible && card.data.size) drawScalarChart(tag, card);
}

// ---- histograms: one overlay chart a run and tag, older steps lighter ----
async function renderHistograms() {
  const root = $('tab-histograms');
  const cards = [];
  for (const [tag, runs] of Object.entries(state.index.tags.histograms).filter(([t]) => tagMatches(t)).sort()) {
    for (const run of runs.filter((r) => state.selected.has(r))) cards.push([tag, run]);
  }
  root.replaceChildren(...(cards.length ? [] : [el('div', { class: 'empty-note' }, 'No histograms.')]));
  for (const [tag, run] of cards.slice(0, 60)) {
    const points = await getJson(`api/histograms?${q({ run, tag })}`);
    const card = el('div', { class: 'card' }, el('h3', {}, `${tag} — ${run}`), el('div', { class: 'chart' }), el('div', { class: 'readout' }));
    root.append(card);
    const facets = [{ scale: 'x', auto: true }, { scale: 'y', auto: true }];
    const data = [null];
    const series = [{}];
    points.forEach((p, i) => {
      const xs = [], ys = [];
      for (let b = 0; b < p.buckets.length; b += 3) (xs.push((p.buckets[b] + p.buckets[b + 1]) / 2), ys.push(p.buckets[b + 2]));
      data.push([xs, ys]);
      const alpha = Math.round(40 + (215 * (i + 1)) / points.length).toString(16).padStart(2, '0');
      series.push({ label: `step ${p.step}`, stroke: colorOf(run) + alpha, width: 1, facets, paths: uPlot.paths.linear(), points: { show: false } });
    });
    card.querySelector('.readout').textContent = points.length ? `steps ${points[0].step} … ${points[points.length - 1].step} (${points.length} shown, the latest darkest)` : '';
    new uPlot({ mode: 2, width: 440, height: 250, legend: { show: false }, cursor: { show: false }, scales: { x: { time: false, auto: true }, y: { auto: true } }, series }, data, card.querySelector('.chart'));
  }
}

// ---- images: a step slider (and a sample slider for several images a step) ----
async function renderImages() {
  const root = $('tab-images');
  root.replaceChildren();
  for (const [tag, runs] of Object.entries(state.index.tags.images).filter(([t]) => tagMatches(t)).sort()) {
    for (const run of runs.filter((r) => state.selected.has(r))) {
      const steps = await getJson(`api/images?${q({ run, tag })}`);
      if (!steps.length) continue;
      const img = el('img', { alt: `${tag} ${run}` });
      const label = el('div', { class: 'step' });
      const slider = el('input', { type: 'range', min: 0, max: steps.length - 1, value: steps.length - 1 });
      const sample = el('input', { type: 'range', min: 0, max: 0, value: 0 });
      const show = () => {
        const i = Number(slider.value), s = steps[i];
        sample.max = String(s.count - 1);
        sample.hidden = s.count < 2;
        img.src = `api/image?${q({ run, tag, index: i, sample: Math.min(Number(sample.value), s.count - 1) })}`;
        label.textContent = `step ${s.step} · ${s.width}×${s.height}${s.count > 1 ? ` · image ${Math.min(Number(sample.value), s.count - 1) + 1} of ${s.count}` : ''} · ${new Date(s.wallTime * 1000).toLocaleString()}`;
      };
      slider.addEventListener('input', show);
      sample.addEventListener('input', show);
      root.append(el('div', { class: 'card image-card' }, el('h3', {}, `${tag} — ${run}`), img, label, slider, sample));
      show();
    }
  }
  if (!root.children.length) root.append(el('div', { class: 'empty-note' }, 'No images.'));
}

// ---- text: a small markdown subset (headings, bold, italic, code, paragraphs), escaped first ----
function markdown(text) {
  const esc = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return esc.split(/\n{2,}/).map((block) => {
    const h = /^(#{1,6})\s+(.*)$/.exec(block);
    const inline = (s) => s.replace(/`([^`]+)`/g, '<code>$1</code>').replace(/\*\*([^*]+)\*\*/g, '<b>$1</b>').replace(/\*([^*]+)\*/g, '<i>$1</i>').replace(/\n/g, '<br>');
    return h ? `<h${h[1].length + 3}>${inline(h[2])}</h${h[1].length + 3}>` : `<p>${inline(block)}</p>`;
  }).join('');
}

async function renderText() {
  const root = $('tab-text');
  root.replaceChildren();
  for (const [tag, runs] of Object.entries(state.index.tags.text).filter(([t]) => tagMatches(t)).sort()) {
    for (const run of runs.filter((r) => state.selected.has(r))) {
      const points = await getJson(`api/text?${q({ run, tag })}`);
      const card = el('div', { class: 'card' }, el('h3', {}, `${tag} — ${run}`));
      for (const p of points.slice(-20).reverse()) {
        const body = el('div');
        body.innerHTML = p.strings.map(markdown).join('<hr>');
        card.append(el('div', { class: 'text-step' }, el('div', { class: 'step' }, `step ${p.step}`), body));
      }
      root.append(card);
    }
  }
  if (!root.children.length) root.append(el('div', { class: 'empty-note' }, 'No text.'));
}

// ---- hparams: a sortable table, metric columns shaded ----
const hparamsSort = { column: 'run', descending: false };
async function renderHparams() {
  const root = $('tab-hparams');
  const table = await getJson('api/hparams');
  if (!table.sessions.length) return root.replaceChildren(el('div', { class: 'empty-note' }, 'No hparams (log them with SummaryWriter.addHparams or the hparams plugin).'));
  const columns = [{ key: 'run', get: (s) => s.run }, ...table.hparams.map((h) => ({ key: h, get: (s) => s.hparams[h] })), ...table.metrics.map((m) => ({ key: m, metric: true, get: (s) => s.metrics[m] }))];
  const column = columns.find((c) => c.key === hparamsSort.column) ?? columns[0];
  const rows = table.sessions.filter((s) => state.selected.has(s.run) || !state.index.runs.includes(s.run)).sort((a, b) => {
    const x = column.get(a), y = column.get(b);
    const order = x === undefined ? 1 : y === undefined ? -1 : typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return hparamsSort.descending ? -order : order;
  });
  const head = el('tr', {}, ...columns.map((c) => el('th', { class: c.metric ? 'metric' : '', onclick: () => {
    hparamsSort.descending = hparamsSort.column === c.key ? !hparamsSort.descending : false;
    hparamsSort.column = c.key;
    renderHparams();
  } }, c.key + (c.key === hparamsSort.column ? (hparamsSort.descending ? ' ▼' : ' ▲') : ''))));
  const body = rows.map((s) => el('tr', {}, ...columns.map((c) => { const v = c.get(s); return el('td', {}, typeof v === 'number' ? String(fmt(v)) : v === undefined ? '' : String(v)); })));
  root.replaceChildren(el('table', { class: 'hparams' }, el('thead', {}, head), el('tbody', {}, ...body)));
}

// ---- graph: the server's layered layout drawn as SVG; click a box for its ops ----
const graphState = { run: undefined, level: 'layers' };
async function renderGraph() {
  const root = $('tab-graph');
  const runs = state.index.graphs;
  if (!runs.length) return root.replaceChildren(el('div', { class: 'empty-note' }, 'No graph (tensorBoard({ writeGraph: true }) or SummaryWriter.addGraph writes one).'));
  if (!runs.includes(graphState.run)) graphState.run = runs[0];
  const runSelect = el('select', { onchange: (e) => ((graphState.run = e.target.value), renderGraph()) }, ...runs.map((r) => { const o = el('option', { value: r }, r); o.selected = r === graphState.run; return o; }));
  const levelSelect = el('select', { onchange: (e) => ((graphState.level = e.target.value), renderGraph()) }, ...['layers', 'ops'].map((l) => { const o = el('option', { value: l }, l === 'layers' ? 'one box a layer (scope)' : 'every op'); o.selected = l === graphState.level; return o; }));
  const g = await getJson(`api/graph?${q({ run: graphState.run, level: graphState.level })}`);
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', g.width);
  svg.setAttribute('height', g.height);
  const defs = document.createElementNS(ns, 'defs');
  defs.innerHTML = '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#888"/></marker>';
  svg.append(defs);
  for (const e of g.edges) {
    const p = document.createElementNS(ns, 'path');
    p.setAttribute('d', 'M' + e.points.map(([x, y]) => `${x},${y}`).join('L'));
    p.setAttribute('marker-end', 'url(#arrow)');
    svg.append(p);
  }
  const detail = el('div', { id: 'graph-detail' }, 'Click a box to see its ops.');
  for (const n of g.nodes) {
    const group = document.createElementNS(ns, 'g');
    const rect = document.createElementNS(ns, 'rect');
    Object.entries({ x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height, rx: 4 }).forEach(([k, v]) => rect.setAttribute(k, v));
    group.append(rect);
    [n.label, n.shape].filter(Boolean).forEach((line, i, all) => {
      const t = document.createElementNS(ns, 'text');
      t.setAttribute('x', n.x);
      t.setAttribute('y', n.y + (i - (all.length - 1) / 2) * 14 + 4);
      t.setAttribute('text-anchor', 'middle');
      t.textContent = line;
      group.append(t);
    });
    group.addEventListener('click', () => {
      svg.querySelectorAll('rect.selected').forEach((r) => r.classList.remove('selected'));
      rect.classList.add('selected');
      detail.textContent = n.detail;
    });
    svg.append(group);
  }
  root.replaceChildren(el('div', { class: 'card big' }, el('label', {}, 'Run ', runSelect, ' ', levelSelect)), el('div', { class: 'graph-view' }, svg), detail);
}

// ---- runs, tabs, problems, live updates ----
function renderRuns() {
  const list = $('runs');
  list.replaceChildren(...state.index.runs.filter((r) => r.toLowerCase().includes(state.runFilter.toLowerCase())).map((run) => {
    const box = el('input', { type: 'checkbox' });
    box.checked = state.selected.has(run);
    box.addEventListener('change', () => { box.checked ? state.selected.add(run) : state.selected.delete(run); renderTab(); });
    return el('li', {}, box, el('span', { class: 'swatch', style: `background:${colorOf(run)}` }), el('span', { title: run }, run));
  }));
}

function renderProblems() {
  const box = $('problems');
  const problems = state.index.problems;
  box.hidden = problems.length === 0;
  box.textContent = problems.map((p) => `${p.kind === 'damaged' ? 'Damaged file' : 'Incomplete file'} ${p.file}: ${p.message}`).join('\n');
}

const renderers = { scalars: renderScalars, histograms: renderHistograms, images: renderImages, text: renderText, hparams: renderHparams, graph: renderGraph };
function renderTab() {
  for (const b of document.querySelectorAll('#tabs button')) {
    b.classList.toggle('active', b.dataset.tab === state.tab);
    const tab = b.dataset.tab;
    const has = tab === 'graph' ? state.index.graphs.length : tab === 'hparams' ? state.index.hparams : Object.keys(state.index.tags[tab]).length;
    b.classList.toggle('empty', !has);
  }
  for (const section of document.querySelectorAll('.tab')) section.hidden = section.id !== `tab-${state.tab}`;
  $('scalar-controls').hidden = state.tab !== 'scalars';
  if (state.tab === 'scalars') redrawScalars();
  const tab = state.tab, version = state.index.version;
  return Promise.resolve(renderers[tab]()).then(() => { published.rendered[tab] = version; }, report);
}

function report(e) {
  published.errors.push(String(e));
  console.warn('kiln board:', e);
}

const inView = (e) => { const r = e.getBoundingClientRect(); return r.bottom > -200 && r.top < innerHeight + 200 && r.width > 0; };

/** Ready when every scalar chart in view shows the current version. */
function checkReady() {
  const visible = [...state.scalarCards.values()].filter((c) => inView(c.element));
  if (visible.every((c) => c.version === state.index.version)) {
    published.drawnVersion = state.index.version;
    if (!published.ready && !published.settling) { // ready once the drawn charts are painted
      published.settling = true;
      requestAnimationFrame(() => requestAnimationFrame(() => {
        published.firstRenderMs = performance.now();
        published.ready = true;
      }));
    }
  }
}

let loading;
async function load() {
  const index = await getJson('api/index');
  const firstLoad = !state.index;
  const known = new Set(state.index?.runs ?? []);
  state.index = index;
  for (const run of index.runs) if (firstLoad || !known.has(run)) state.selected.add(run); // new runs start selected
  published.version = index.version;
  $('logdir').textContent = index.logDir;
  renderRuns();
  renderProblems();
  await renderTab();
  // the observer hears of new cards later: load the ones in view now
  if (state.tab === 'scalars') await Promise.all([...state.scalarCards].filter(([, c]) => inView(c.element) && c.version !== index.version).map(([tag, c]) => ((c.visible = true), loadScalarTag(tag))));
  checkReady();
}

function reload() {
  loading = (loading ?? Promise.resolve()).then(load).catch(report);
  return loading;
}

function wire() {
  for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => { state.tab = b.dataset.tab; renderTab(); });
  $('smoothing').addEventListener('input', (e) => { state.smoothing = Number(e.target.value); $('smoothing-value').textContent = state.smoothing.toFixed(2); redrawScalars(); });
  for (const r of document.querySelectorAll('input[name=xaxis]')) r.addEventListener('change', (e) => { state.xAxis = e.target.value; redrawScalars(); });
  $('logscale').addEventListener('change', (e) => { state.logScale = e.target.checked; redrawScalars(); });
  $('filter').addEventListener('input', (e) => { state.filter = e.target.value; renderTab(); });
  $('run-filter').addEventListener('input', (e) => { state.runFilter = e.target.value; renderRuns(); });
  $('all-runs').addEventListener('click', () => { state.index.runs.forEach((r) => state.selected.add(r)); renderRuns(); renderTab(); });
  $('no-runs').addEventListener('click', () => { state.selected.clear(); renderRuns(); renderTab(); });
  const events = new EventSource('api/events');
  events.onopen = () => $('live').classList.add('on');
  events.onerror = () => $('live').classList.remove('on');
  events.onmessage = (m) => { if (Number(m.data) !== state.index?.version) reload(); };
}

wire();
reload();
