// The tests page in headless Chromium over `allure-host serve`: its weight,
// the time to load it, and the time from typing into the search box to the
// results (the first search fetches history.json). Prints one JSON line.
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
page.on('response', async (r) => {
  const name = new URL(r.url()).pathname.split('/').pop() || 'index.html';
  try { bytes[name] = (await r.body()).length; } catch { /* a redirect has no body */ }
});
const t0 = Date.now();
await page.goto(base + path, { waitUntil: 'load' });
const load = Date.now() - t0;
if (shot) {
  await page.screenshot({ path: `${shot}/tests.png` });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: `${shot}/tests-dark.png` });
  await page.emulateMedia({ colorScheme: 'light' });
}
const t1 = Date.now();
await page.fill('section.finder input[type=search]', query);
await page.waitForFunction(() => /matching test/.test(document.querySelector('section.finder output').textContent), null, { timeout: 120000 });
const first = Date.now() - t1;
await page.fill('section.finder input[type=search]', '');
const t2 = Date.now();
await page.fill('section.finder input[type=search]', query);
await page.waitForFunction(() => /matching test/.test(document.querySelector('section.finder output').textContent), null, { timeout: 120000 });
const again = Date.now() - t2;
const found = await page.$eval('section.finder output', (o) => o.textContent);
console.log(JSON.stringify({ load_ms: load, first_search_ms: first, next_search_ms: again, found, bytes }));
await browser.close();
