// Shows status badges in headless Chromium as a README shows them, each as
// an <img>, and prints as JSON what each looked like: whether it loaded,
// its natural size, the colour of its label and message halves, and every
// host the page asked for (the badge itself asks for nothing).
// Usage: node badge.mjs SHOTS_DIR|- NAME=FILE.svg...
// A screenshot of each goes to SHOTS_DIR/NAME.png unless it is "-".
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [shots, ...badges] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const page = await browser.newPage({ viewport: { width: 400, height: 60 }, deviceScaleFactor: 2 });
const hosts = new Set();
const out = { badges: {} };
let svg = '';
// One origin serves the page and the badge, so the canvas may read it.
await page.route('**/*', (route) => {
  const url = new URL(route.request().url());
  hosts.add(url.host);
  if (url.host !== 'badge.test') {
    return route.abort();
  }
  if (url.pathname === '/badge.svg') {
    return route.fulfill({ body: svg, contentType: 'image/svg+xml; charset=utf-8' });
  }
  return route.fulfill({
    contentType: 'text/html; charset=utf-8',
    body: '<!doctype html><body style="margin:8px;background:#fff"><img id="b" src="/badge.svg" alt="badge"></body>',
  });
});
for (const arg of badges) {
  const at = arg.indexOf('=');
  const name = arg.slice(0, at);
  svg = readFileSync(arg.slice(at + 1), 'utf8');
  await page.goto(`http://badge.test/${name}.html`, { waitUntil: 'load' });
  out.badges[name] = await page.evaluate(async () => {
    const img = document.getElementById('b');
    await img.decode().catch(() => {});
    const w = img.naturalWidth;
    const h = img.naturalHeight;
    if (!img.complete || !w) {
      return { loaded: false };
    }
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    // A pixel near each half's top left corner, away from the text.
    const at = (x, y) => [...ctx.getImageData(x, y, 1, 1).data.slice(0, 3)];
    return { loaded: true, width: w, height: h, label: at(2, 3), message: at(w - 3, 3) };
  });
  if (shots !== '-') {
    await page.locator('#b').screenshot({ path: `${shots}/${name}.png` });
  }
}
out.hosts = [...hosts].sort();
await browser.close();
console.log(JSON.stringify(out));
