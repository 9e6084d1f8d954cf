// Opens a branch's tests page in headless Chromium and prints what a reader
// sees as JSON: each list's test names in order, the strip cells of the
// flakiest row, what the filter box finds for a word, and every host the
// page asked for.
// Usage: node tests_page.mjs URL FILTER
import { chromium } from 'playwright-core';

const [url, filter] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const hosts = new Set();
const errors = [];
page.on('request', (r) => hosts.add(new URL(r.url()).host));
page.on('pageerror', (e) => errors.push(String(e)));
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
await page.goto(url, { waitUntil: 'networkidle' });
const out = await page.evaluate(() => {
  const lists = {};
  for (const s of document.querySelectorAll('section.list')) {
    lists[s.id] = [...s.querySelectorAll('tbody tr .name')].map((n) => n.textContent.trim());
  }
  const first = document.querySelector('#flakiest tbody tr');
  lists.cells = first ? first.querySelectorAll('td.strip .o').length : 0;
  lists.links = first ? [...first.querySelectorAll('td.strip a')].map((a) => a.getAttribute('href')) : [];
  return lists;
});
await page.fill('section.finder input[type=search]', filter);
await page.waitForSelector('table.found tbody tr', { timeout: 10000 }).catch(() => {});
out.filtered = await page.$$eval('table.found tbody tr .name', (ns) => ns.map((n) => n.textContent.trim()));
out.hosts = [...hosts];
out.errors = errors;
console.log(JSON.stringify(out));
await browser.close();
