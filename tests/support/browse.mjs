// Opens a served site in headless Chromium as a reader would, through
// playwright-core, and prints what it saw as JSON: every host a page
// requested, the Allure report's trend points, the runs page's charts and
// what its filters leave visible, the project page's sparklines.
// Usage: node browse.mjs BASE_URL PROJECT_PATH [SCREENSHOT_DIR]
import { chromium } from 'playwright-core';

const [base, project, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const out = { hosts: [] };
const hosts = new Set();
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
page.on('request', (r) => hosts.add(new URL(r.url()).host));

async function visit(path, name) {
  await page.goto(base + path, { waitUntil: 'networkidle' });
  if (shots) await page.screenshot({ path: `${shots}/${name}.png`, fullPage: false });
}

// The latest report of the branch, as Allure renders it.
await visit(`${project}main/latest/`, 'report');
await page.waitForSelector('.widget', { timeout: 15000 }).catch(() => {});
out.report = await page.evaluate(() => ({
  url: location.pathname,
  failedToFetch: document.body.innerText.includes('Failed to fetch'),
  trendPoints: [...document.querySelectorAll('svg text')]
    .map((t) => t.textContent.trim())
    .filter((t) => /^#\d+$/.test(t)),
}));

// The branch's runs page: charts, then the filters.
await visit(`${project}main/runs/`, 'runs');
const visible = () => page.evaluate(() =>
  [...document.querySelectorAll('table[data-filter] tbody tr')].filter((r) => !r.hidden).length);
out.runs = await page.evaluate(() => ({
  kpis: document.querySelectorAll('.kpi').length,
  lines: document.querySelectorAll('.chart polyline').length,
  bars: document.querySelectorAll('.chart rect').length,
  rows: document.querySelectorAll('table[data-filter] tbody tr').length,
  firstRun: document.querySelector('table[data-filter] tbody tr td a').textContent,
  failingRows: document.querySelectorAll('tr[data-failing="1"]').length,
}));
await page.fill('.controls input[type=search]', out.runs.firstRun);
out.runs.afterText = await visible();
await page.fill('.controls input[type=search]', '');
await page.check('.controls input[type=checkbox]');
out.runs.afterOnlyFailing = await visible();

// The project page.
await visit(project, 'project');
out.project = await page.evaluate(() => ({
  rows: document.querySelectorAll('table[data-filter] tbody tr').length,
  sparklines: [...document.querySelectorAll('svg.spark polyline')].filter(
    (p) => p.getAttribute('points').split(' ').length > 1).length,
}));

if (shots) {
  await page.emulateMedia({ colorScheme: 'dark' });
  await visit(`${project}main/runs/`, 'runs-dark');
}
out.hosts = [...hosts].sort();
await browser.close();
console.log(JSON.stringify(out));
