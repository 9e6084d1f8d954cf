// Opens an Allure 3 report of a served site in headless Chromium, through
// playwright-core, and prints what a reader sees as JSON: every host the
// pages requested, where latest led, the bars of the "Status dynamics"
// trend on the Graphs view, and where a test's History tab links to.
// Usage: node browse3.mjs BASE_URL BRANCH_PATH TEST_NAME [SCREENSHOT_DIR]
import { chromium } from 'playwright-core';

const [base, branch, testName, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const hosts = new Set();
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
page.on('request', (r) => hosts.add(new URL(r.url()).host));
const shot = async (name) => {
  if (shots) await page.screenshot({ path: `${shots}/${name}.png` });
};
const out = {};

await page.goto(`${base}${branch}latest/`, { waitUntil: 'networkidle' });
out.landed = new URL(page.url()).pathname;
await shot('allure3-report');

// The Graphs view: one bar label per run in the trend ("Latest" is this one).
const report = page.url().split('#')[0];
await page.goto(`${report}#charts`, { waitUntil: 'networkidle' });
await page.getByText('Status dynamics', { exact: true }).first().waitFor({ timeout: 15000 });
await page.waitForTimeout(500);
await shot('allure3-graphs');
out.statusDynamics = await page.evaluate(() => {
  const title = [...document.querySelectorAll('*')].find(
    (e) => e.children.length === 0 && e.textContent.trim() === 'Status dynamics');
  let card = title;
  while (card && !card.querySelector('svg')) card = card.parentElement;
  return [...(card ? card.querySelectorAll('svg text') : [])]
    .map((t) => t.textContent.trim())
    .filter((t) => t && !/^\d+$/.test(t));
});

// A test's History tab: earlier runs, each linking to its own report.
await page.goto(report, { waitUntil: 'networkidle' });
await page.getByText(testName, { exact: true }).first().click();
await page.getByText('History', { exact: false }).first().click();
await page.waitForTimeout(500);
await shot('allure3-history');
out.historyLinks = await page.evaluate(() =>
  [...new Set([...document.querySelectorAll('a[href*="index.html"]')].map((a) => a.href))]);
out.hosts = [...hosts].sort();
console.log(JSON.stringify(out));
await browser.close();
