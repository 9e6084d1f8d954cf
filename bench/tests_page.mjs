// The tests page in headless Chromium over `allure-host serve`: the bytes
// it fetched, the time to load it (navigation timing), and the time from
// typing into the search box to the matching rows on screen, measured in
// the page: the first search fetches and reads history.json, the next one
// searches what is loaded. Prints one JSON line.
// With SCREENSHOT_DIR, also takes tests.png and tests-dark.png of the page
// as it opens (scripts/screenshots.sh).
// Usage: node bench/tests_page.mjs BASE_URL PATH QUERY [SCREENSHOT_DIR]
import { chromium } from 'playwright-core';

const [base, path, query, shot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const bytes = {};
const hosts = new Set();
const requested = [];
const bodies = [];
const nameOf = (url) => new URL(url).pathname.split('/').pop() || 'index.html';
page.on('request', (r) => {
  hosts.add(new URL(r.url()).host);
  requested.push(nameOf(r.url()));
});
page.on('response', (r) => bodies.push(r.body().then(
  (b) => { bytes[nameOf(r.url())] = b.length; },
  () => { /* a redirect has no body */ })));
const errors = [];
page.on('pageerror', (e) => errors.push(e.message));
// A missing resource (the browser's own favicon request aside).
page.on('response', (r) => {
  if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(`${r.status()} ${r.url()}`);
});

await page.goto(base + path, { waitUntil: 'load' });
const nav = await page.evaluate(() => {
  const n = performance.getEntriesByType('navigation')[0];
  return { dom: Math.round(n.domContentLoadedEventEnd), load: Math.round(n.loadEventEnd) };
});
const beforeSearch = [...requested];
if (shot) {
  await page.screenshot({ path: `${shot}/tests.png` });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: `${shot}/tests-dark.png` });
  await page.emulateMedia({ colorScheme: 'light' });
}

// Types `q` at once (as a paste would) and waits until the rows for it are
// in the page and painted.
const search = (q) => page.evaluate((q) => new Promise((done) => {
  const finder = document.querySelector('section.finder');
  const input = finder.querySelector('input[type=search]');
  const t0 = performance.now();
  const finish = () => requestAnimationFrame(() => requestAnimationFrame(() => done({
    ms: Math.round(performance.now() - t0),
    rows: finder.querySelectorAll('tbody tr').length,
    links: finder.querySelectorAll('tbody a.o').length,
    said: finder.querySelector('output').textContent,
  })));
  new MutationObserver((_, o) => {
    if (finder.getAttribute('data-shown') === q.trim().toLowerCase()) { o.disconnect(); finish(); }
  }).observe(finder, { attributes: true, attributeFilter: ['data-shown'] });
  input.value = q;
  input.dispatchEvent(new Event('input'));
}), q);

const first = await search(query);
await page.fill('section.finder input[type=search]', '');
const next = await search(query.slice(0, -1));
const none = await search('no test is called this');
// Every row of the page's lists, searched for by its name: the search
// must show it as the page does (score, strip with its links and titles,
// failures), its numbers computed in the browser from history.json.
const compared = await page.evaluate(async () => {
  const finder = document.querySelector('section.finder');
  const input = finder.querySelector('input[type=search]');
  const sig = (tr) => JSON.stringify([
    tr.cells[0].textContent,
    tr.cells[1].textContent,
    [...tr.cells[1].children].map((s) => `${s.className}|${s.title}`),
    [...tr.cells[2].children].map((o) => [o.tagName, o.className, o.getAttribute('href'), o.title]),
    tr.cells[3].textContent,
  ]);
  const rows = new Map();
  for (const tr of document.querySelectorAll('section.list tbody tr')) rows.set(sig(tr), tr);
  const differ = [];
  for (const [want, tr] of rows) {
    const name = tr.querySelector('.name').textContent;
    const q = name.trim().toLowerCase();
    await new Promise((done) => {
      new MutationObserver((_, o) => {
        if (finder.getAttribute('data-shown') === q) { o.disconnect(); done(); }
      }).observe(finder, { attributes: true, attributeFilter: ['data-shown'] });
      input.value = name;
      input.dispatchEvent(new Event('input'));
    });
    const got = [...finder.querySelectorAll('tbody tr')].map(sig);
    if (!got.includes(want)) differ.push({ want, got: got.slice(0, 3) });
  }
  return { rows: rows.size, differ: differ.slice(0, 3), differing: differ.length };
});
await Promise.all(bodies);
console.log(JSON.stringify({
  dom_ms: nav.dom, load_ms: nav.load, first_search_ms: first.ms, next_search_ms: next.ms,
  found: first.said, rows: first.rows, links: first.links, next_found: next.said, none: none.said,
  compared, bytes, requested, before_search: beforeSearch, hosts: [...hosts], errors,
}));
await browser.close();
