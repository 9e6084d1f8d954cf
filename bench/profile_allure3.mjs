// Where the time goes when Allure 3 generates its awesome report, as a
// folder of files or as one index.html (singleFile). Runs the generation
// in-process through @allurereport/core as src/report/allure3/generate.mjs
// does, and measures its phases: reading the results (readDirectory), the
// plugins' work (report.done()) and, inside it, the awaited file writes
// (config.reportFiles.addFile, which every plugin writes through),
// JSON.stringify/parse, result-file reads and GC pauses. Prints a table and
// when writes complete over done(): a histogram, and per directory (paths
// as written, under the plugin's id: core moves a lone plugin's directory
// up to the output root at the end of done()).
// Run it under `node --cpu-prof --cpu-prof-dir=DIR` for a CPU profile, and
// sum that profile's self time by category with --aggregate.
// Usage (Node.js 22, engines/allure3/node_modules/.bin/node):
//   node bench/profile_allure3.mjs RESULTS_DIR folder|single-file [--keep] [--json]
//   node bench/profile_allure3.mjs --aggregate FILE.cpuprofile [--json]
// ALLURE3_CORE overrides the path of @allurereport/core/dist/index.js.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const [first, second] = args.filter((a) => !a.startsWith('--'));
const ms = (x) => x.toFixed(0);
const mb = (x) => (x / 1e6).toFixed(1);
const row = (k, ...v) => console.log(k.padEnd(34) + v.map((x) => String(x).padStart(12)).join(''));
const bump = (m, k) => m.set(k, (m.get(k) ?? 0) + 1);

// CPU profile: self time (samples) by category. A sample in Node.js's own
// code (node:*, or a native binding with no url) goes to fs write or fs read
// when it runs under fs's write or read functions, else to the first
// frame up its stack that is neither Node.js's nor the shared
// @allurereport libraries (core-api, plugin-api, web-commons, charts-api);
// JSON.stringify/parse run inside the timed* wrappers below.
const packageOf = (u) => {
  if (/@allurereport\/(plugin|web)-awesome\//.test(u)) return 'awesome plugin';
  if (/@allurereport\/(core-api|plugin-api|web-commons|charts-api)\//.test(u)) return null; // shared
  if (u.includes('@allurereport/plugin-')) return 'other plugins';
  if (u.includes('@allurereport/reader')) return 'reader';
  if (u.includes('@allurereport/core/')) return 'core/store';
  if (u.endsWith('/profile_allure3.mjs')) return 'harness';
  return 'other';
};
const categorize = (nodes) => {
  const parent = new Map();
  for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n);
  return (node) => {
    const { functionName: f, url: u } = node.callFrame;
    if (f === '(garbage collector)') return 'GC';
    if (f === '(idle)' || f === '(program)') return f;
    if (/^timed(Stringify|Parse)$/.test(f) || (!u && /^(stringify|parse)$/.test(f))) return 'JSON stringify/parse';
    const chain = [];
    for (let n = node; n; n = parent.get(n.id)) chain.push(n.callFrame);
    if (chain.some(({ functionName: g, url: v }) => v === 'node:internal/fs/rimraf' || g === 'walk')) return 'harness';
    for (const { functionName: g, url: v } of chain) {
      if (v === 'node:internal/fs/promises' && /^(writeFile|writeFileHandle|write|mkdir|open|close)$/.test(g)) return 'fs write';
      if (v === 'node:internal/fs/promises' && /^(realpath|readdir|readFile|stat|lstat)$/.test(g)) return 'fs read';
      if (v === 'node:internal/fs/streams' || (v === 'node:fs' && /^(read|open|close|\w+Sync)$/.test(g))) return 'fs read';
      if (v.startsWith('node:internal/modules/')) return 'module loading';
      if (v && !v.startsWith('node:') && packageOf(v)) return packageOf(v);
    }
    return chain.some(({ url: v }) => v.includes('@allurereport/')) ? 'allure api libs' : 'node internals';
  };
};

// Sums a profile's samples by category: over the whole process and, with
// the phases.PID.json a run under --cpu-prof leaves next to its profile,
// over readDirectory() and over done(). Percentages are of busy samples
// (all but (idle)); the (idle) row is a percentage of all samples.
async function aggregate(file) {
  const { nodes, startTime, samples, timeDeltas } = JSON.parse(await readFile(file, 'utf8'));
  const pid = basename(file).split('.')[3];
  const marks = await readFile(join(dirname(file), `phases.${pid}.json`), 'utf8').then(JSON.parse, () => ({}));
  const categoryOf = categorize(nodes);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const cols = ['all', ...Object.keys(marks)];
  const [count, byFn] = [new Map(), new Map()];
  let t = startTime;
  samples.forEach((id, i) => {
    t += timeDeltas[i];
    const n = byId.get(id);
    const [f, cat] = [n.callFrame, categoryOf(n)];
    for (const w of ['all', ...Object.keys(marks).filter((k) => t >= marks[k][0] && t < marks[k][1])]) bump(count, `${w}|${cat}`);
    bump(byFn, `${f.functionName || '(anon)'} ${f.url.split('/node_modules/').pop()}:${f.lineNumber + 1} [${cat}]`);
  });
  const cats = [...new Set([...count.keys()].map((k) => k.split('|')[1]))];
  const get = (w, c) => count.get(`${w}|${c}`) ?? 0;
  const total = Object.fromEntries(cols.map((w) => [w, cats.reduce((s, c) => s + get(w, c), 0)]));
  const busy = Object.fromEntries(cols.map((w) => [w, total[w] - get(w, '(idle)')]));
  const pct = (w, c) => (100 * get(w, c)) / (c === '(idle)' ? total[w] : busy[w]);
  cats.sort((a, b) => get('all', b) - get('all', a));
  if (flags.has('--json')) {
    const table = Object.fromEntries(cats.map((c) => [c, Object.fromEntries(cols.map((w) => [w, { samples: get(w, c), pct: pct(w, c) }]))]));
    console.log(JSON.stringify({ file, total, busy, cats: table }));
    return;
  }
  row('category (self samples)', ...cols.flatMap((w) => [w, '%']));
  row('(total samples)', ...cols.flatMap((w) => [total[w], '']));
  for (const c of cats) row(c, ...cols.flatMap((w) => [get(w, c), pct(w, c).toFixed(1)]));
  console.log('\ntop functions (self samples, whole process)');
  for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${v}`.padStart(7), k);
}

async function walk(dir) {
  const files = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    files.push({ path: relative(dir, path), size: (await stat(path)).size });
  }
  return files;
}

async function run(resultsDir, mode) {
  if (mode !== 'folder' && mode !== 'single-file') throw new Error(`mode: folder or single-file, not ${mode}`);
  const here = dirname(fileURLToPath(import.meta.url));
  const corePath = process.env.ALLURE3_CORE
    ?? resolve(here, '../engines/allure3/node_modules/@allurereport/core/dist/index.js');
  const core = await import(pathToFileURL(corePath).href);
  // The reader-api module core itself loads (flat node_modules).
  const readerApi = await import(pathToFileURL(resolve(dirname(corePath), '../../reader-api/dist/index.js')).href);
  const tmp = await mkdtemp(join(tmpdir(), 'allure3-profile-'));
  const [cwd, output] = [join(tmp, 'cwd'), join(tmp, 'out')];
  await mkdir(cwd);

  let phase = 'setup';
  const acc = {};
  const add = (key, t) => {
    const a = (acc[`${phase}.${key}`] ??= { n: 0, ms: 0 });
    Object.assign(a, { n: a.n + 1, ms: a.ms + t });
  };
  // JSON.stringify / JSON.parse, timed (named so a CPU profile can tell).
  const { stringify, parse } = JSON;
  JSON.stringify = function timedStringify(...a) {
    const t0 = performance.now();
    try { return stringify.apply(JSON, a); } finally { add('stringify', performance.now() - t0); }
  };
  JSON.parse = function timedParse(...a) {
    const t0 = performance.now();
    try { return parse.apply(JSON, a); } finally { add('parse', performance.now() - t0); }
  };
  // Every read of a result or attachment file's content (asJson, asBuffer...).
  const readContent = readerApi.BaseResultFile.prototype.readContent;
  readerApi.BaseResultFile.prototype.readContent = async function timedReadContent(...a) {
    const t0 = performance.now();
    try { return await readContent.apply(this, a); } finally { add('readContent', performance.now() - t0); }
  };
  // GC pauses, by when they started (entries arrive late).
  const pauses = [];
  const gc = new PerformanceObserver((list) => pauses.push(...list.getEntries()));
  gc.observe({ entryTypes: ['gc'] });

  const own = await core.readRawConfig(cwd);
  const config = await core.readConfig(cwd, undefined, { output, historyBaseUrl: 'http://x/run/', name: own.name ?? 'bench' });
  config.historyPath = join(tmp, 'history.jsonl');
  config.historyLimit = own.historyLimit ?? 50;
  const awesome = config.plugins.find((p) => p.id === 'awesome');
  // The plugin reads this.options (the object readConfig also keeps as the
  // entry's options) in start() and when generating.
  if (mode === 'single-file') awesome.plugin.options.singleFile = true;
  const perPlugin = {};
  for (const { id, plugin } of config.plugins.filter((p) => p.plugin.done)) {
    const pluginDone = plugin.done;
    plugin.done = async (...a) => {
      const t0 = performance.now();
      try { return await pluginDone.apply(plugin, a); } finally { perPlugin[id] = performance.now() - t0; }
    };
  }

  // Writes: calls, bytes, summed await time, time with >= 1 write pending.
  const writes = { n: 0, bytes: 0, sum: 0, busy: 0, inflight: 0, since: 0, done: [] };
  const addFile = config.reportFiles.addFile;
  config.reportFiles.addFile = async (path, data) => {
    const t0 = performance.now();
    if (writes.inflight++ === 0) writes.since = t0;
    writes.n++;
    writes.bytes += data.length;
    try {
      return await addFile(path, data);
    } finally {
      const t1 = performance.now();
      writes.sum += t1 - t0;
      if (--writes.inflight === 0) writes.busy += t1 - writes.since;
      writes.done.push({ t: t1, bytes: data.length, dir: path.split('/').slice(0, -1).slice(0, 3).join('/') || '.' });
    }
  };

  // hrtime (µs) is the CPU profile's clock.
  const us = () => Number(process.hrtime.bigint() / 1000n);
  const timed = async (name, fn) => {
    phase = name;
    const [c0, u0, t0] = [process.cpuUsage(), us(), performance.now()];
    await fn();
    const [t1, u1, c] = [performance.now(), us(), process.cpuUsage(c0)];
    return { name, t0, t1, us: [u0, u1], wall: t1 - t0, user: c.user / 1e3, sys: c.system / 1e3 };
  };
  const report = new core.AllureReport(config);
  const phases = [];
  phases.push(await timed('start', () => report.start()));
  phases.push(await timed('read', () => report.readDirectory(resultsDir)));
  phases.push(await timed('done', async () => {
    if (report.hasQualityGate) {
      const trs = await report.store.allTestResults({ includeRetries: false });
      const { results } = await report.validate({ trs });
      report.realtimeDispatcher.sendQualityGateResults(results);
    }
    await report.done();
  }));
  phase = 'after';
  JSON.stringify = stringify;
  JSON.parse = parse;
  await new Promise((r) => setImmediate(r));
  gc.disconnect();
  for (const e of pauses) {
    phase = phases.find((p) => e.startTime >= p.t0 && e.startTime < p.t1)?.name ?? 'other';
    add('gcPause', e.duration);
  }

  const profDir = process.execArgv.includes('--cpu-prof')
    && (process.execArgv.find((a) => a.startsWith('--cpu-prof-dir='))?.slice(15) ?? '.');
  if (profDir) {
    await mkdir(profDir, { recursive: true });
    await writeFile(join(profDir, `phases.${process.pid}.json`), JSON.stringify({ read: phases[1].us, done: phases[2].us }));
  }
  const files = await walk(output);
  const done = phases[2];
  const buckets = Array.from({ length: 10 }, () => ({ n: 0, bytes: 0 }));
  const dirs = {}; // per directory written: files, bytes, first and last completion
  for (const { t, bytes, dir } of writes.done) {
    const i = Math.min(9, Math.max(0, Math.floor((10 * (t - done.t0)) / done.wall)));
    buckets[i].n++;
    buckets[i].bytes += bytes;
    const d = (dirs[dir] ??= { n: 0, bytes: 0, first: t - done.t0 });
    Object.assign(d, { n: d.n + 1, bytes: d.bytes + bytes, last: t - done.t0 });
  }
  const get = (k) => acc[k] ?? { n: 0, ms: 0 };
  const measured = ['stringify', 'parse', 'readContent', 'gcPause'];
  const result = {
    resultsDir, mode, node: process.version,
    plugins: config.plugins.map((p) => `${p.id}${p.enabled ? '' : ' (disabled)'}`),
    phases: Object.fromEntries(phases.map(({ name, wall, user, sys }) => [name, { wall, user, sys }])),
    perPlugin,
    writes: { n: writes.n, bytes: writes.bytes, sumMs: writes.sum, busyMs: writes.busy },
    ...Object.fromEntries(['read', 'done'].map((ph) => [ph, Object.fromEntries(measured.map((k) => [k, get(`${ph}.${k}`)]))])),
    output: { files: files.length, bytes: files.reduce((s, f) => s + f.size, 0) },
    histogram: buckets, dirs,
    largest: files.sort((a, b) => b.size - a.size).slice(0, 8),
  };
  if (!flags.has('--keep')) await rm(tmp, { recursive: true, force: true });
  else console.log(`kept ${output}`);
  if (flags.has('--json')) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(`\n${resultsDir} ${mode}  Node ${process.version}  plugins: ${result.plugins.join(', ')}`);
  row('phase', 'wall ms', 'user ms', 'sys ms');
  for (const p of phases) row(p.name, ms(p.wall), ms(p.user), ms(p.sys));
  for (const [id, t] of Object.entries(perPlugin)) row(`done(): plugin ${id}.done() ms`, ms(t));
  row('done(): addFile calls / MB', writes.n, mb(writes.bytes));
  row('done(): addFile await sum / busy ms', ms(writes.sum), ms(writes.busy));
  for (const ph of ['read', 'done']) for (const k of measured) row(`${ph}(): ${k} calls / ms`, result[ph][k].n, ms(result[ph][k].ms));
  row('output files / MB', result.output.files, mb(result.output.bytes));
  for (const f of result.largest) row(`  ${f.path.slice(-32)}`, '', mb(f.size));
  console.log('\naddFile completions over done(), 10 buckets');
  row('bucket (ms from done start)', 'files', 'MB');
  buckets.forEach((b, i) => row(`${i} (${ms((i * done.wall) / 10)}-${ms(((i + 1) * done.wall) / 10)})`, b.n, mb(b.bytes)));
  row('addFile by directory', 'files', 'MB', 'first ms', 'last ms');
  for (const [k, d] of Object.entries(dirs)) row(`  ${k}`, d.n, mb(d.bytes), ms(d.first), ms(d.last));
}

if (flags.has('--aggregate')) await aggregate(first);
else await run(resolve(first), second);
