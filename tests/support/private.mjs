// Reads a private site through the local edge in headless Chromium, as three
// readers: one with a signed link, one with only the plain URL (a fresh
// profile), one whose short link has run out. Prints what each saw as JSON.
// Usage: node private.mjs BASE RUN_PATH SIGNED_URL SHORT_URL [SCREENSHOT_DIR]
import { chromium } from 'playwright-core';

const [base, runPath, signed, short, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const out = {};

async function reader(url, name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const failed = [];
  let requests = 0;
  page.on('response', (r) => {
    requests++;
    if (r.status() >= 400) failed.push(`${r.status()} ${new URL(r.url()).pathname}`);
  });
  const first = await page.goto(url, { waitUntil: 'networkidle' });
  await page.waitForSelector('.widget', { timeout: 8000 }).catch(() => {});
  const seen = await page.evaluate(() => ({
    path: location.pathname + location.search,
    private: document.body.innerText.includes('This report is private'),
    widgets: document.querySelectorAll('.widget').length,
    trendPoints: [...document.querySelectorAll('svg text')].map((t) => t.textContent.trim()).filter((t) => /^#\d+$/.test(t)),
  }));
  if (shots) await page.screenshot({ path: `${shots}/${name}.png` });
  return { context, page, seen: { ...seen, status: first.status(), failed, requests } };
}

const a = await reader(signed, 'private-signed');
out.signed = a.seen;
// The same reader comes back later to the plain URL: the cookie opens it.
await a.page.goto(base + runPath, { waitUntil: 'networkidle' });
out.signedAgain = await a.page.evaluate(() => !document.body.innerText.includes('This report is private'));
const b = await reader(base + runPath, 'private-denied');
out.plain = b.seen;
const c = await reader(short, 'private-short');
out.shortFirst = c.seen;
// Wait until the short link's expiry (its token's second field) has passed.
const expires = Number(new URL(short).searchParams.get('access').split('.')[1]);
await new Promise((r) => setTimeout(r, Math.max(0, expires * 1000 - Date.now()) + 1500));
const again = await c.page.goto(base + runPath, { waitUntil: 'networkidle' });
out.shortLater = { status: again.status(), private: await c.page.evaluate(() => document.body.innerText.includes('This report is private')) };
const reused = await c.page.goto(short, { waitUntil: 'networkidle' });
out.shortReused = { status: reused.status() };
console.log(JSON.stringify(out));
await browser.close();
