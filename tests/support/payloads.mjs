// Messages as the services define them. `chat` holds slack.json,
// teams.json and google-chat.json of DIR against each service's published
// definitions: Slack's Block Kit types (@slack/types) and Google Chat's API
// types (@googleapis/chat) through the TypeScript compiler, the Adaptive
// Card through Microsoft's own renderer (adaptivecards) in Chromium, and
// each service's documented size limits. `preview` renders them to PNGs for
// a person to look at: the card by that renderer, Slack and Google Chat as
// an HTML rendering of the same blocks and widgets. `check-run` holds the
// bodies of a GitHub check run's create and update against GitHub's
// OpenAPI description (@octokit/openapi-types).
// Usage: node payloads.mjs chat DIR
//        node payloads.mjs preview DIR OUT_DIR
//        node payloads.mjs check-run CREATE.json UPDATE.json
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const require = createRequire(import.meta.url);
const [mode, dir, outDir] = process.argv.slice(2);
const problems = [];

// Each body as an object literal typed by the service's declarations:
// a field it does not define, or a value of the wrong kind, fails.
// `lines`: the imports, then `export const name: Type = <json>;` lines.
function typecheck(lines) {
  const file = join(mkdtempSync(join(tmpdir(), 'payload-types-')), 'payloads.ts');
  writeFileSync(file, lines.join('\n'));
  const program = ts.createProgram([file], {
    noEmit: true, strict: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022, moduleResolution: ts.ModuleResolutionKind.Node10,
    baseUrl: root, paths: { '*': ['node_modules/*'] }, types: [],
  });
  for (const d of ts.getPreEmitDiagnostics(program)) {
    problems.push(`types: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  }
}

// Slack: header 150 characters, section text 3,000, button label 75,
// 50 blocks. Teams: 28 KB. Google Chat: 32,000 bytes.
function limits() {
  const limit = (what, n, max) => { if (n > max) problems.push(`${what}: ${n} > ${max}`); };
  limit('slack blocks', slack.blocks.length, 50);
  for (const b of slack.blocks) {
    if (b.type === 'header') limit('slack header', [...b.text.text].length, 150);
    if (b.type === 'section') limit('slack section', [...b.text.text].length, 3000);
    if (b.type === 'actions') for (const e of b.elements) limit('slack button', [...e.text.text].length, 75);
  }
  limit('teams bytes', Buffer.byteLength(JSON.stringify(teams)), 28 * 1024);
  limit('google chat bytes', Buffer.byteLength(JSON.stringify(chat)), 32000);
  if (teams.attachments?.[0]?.contentType !== 'application/vnd.microsoft.card.adaptive') {
    problems.push('teams: the attachment is not an Adaptive Card');
  }
}

const esc = (s) => String(s).replace(/&(?!(amp|lt|gt|quot);)/g, '&amp;').replace(/</g, '&lt;');
// Slack mrkdwn (entities already escaped by the sender) to HTML.
const mrkdwn = (t) => t
  .replace(/`([^`]*)`/g, '<code>$1</code>')
  .replace(/\*([^*\n]+)\*/g, '<b>$1</b>')
  .replace(/(^|\s)_([^_\n]+)_/g, '$1<i>$2</i>')
  .replace(/\n/g, '<br>');

function slackHtml() {
  const blocks = slack.blocks.map((b) => {
    if (b.type === 'header') return `<h3>${esc(b.text.text)}</h3>`;
    if (b.type === 'section') return `<p>${mrkdwn(b.text.text)}</p>`;
    if (b.type === 'actions') return `<p>${b.elements.map((e) => `<a class="btn">${esc(e.text.text)}</a>`).join(' ')}</p>`;
    if (b.type === 'context') return `<p class="ctx">${mrkdwn(b.elements[0].text)}</p>`;
    return '';
  }).join('');
  return `<style>body{font:15px Lato,'DejaVu Sans',sans-serif;margin:0;background:#fff}
    .msg{display:flex;gap:10px;padding:16px;width:640px}.av{width:36px;height:36px;border-radius:6px;background:#611f69;color:#fff;font-weight:bold;display:flex;align-items:center;justify-content:center}
    h3{margin:4px 0 8px;font-size:17px}p{margin:0 0 10px;line-height:1.45}code{font:12px monospace;background:#f6f6f6;border:1px solid #ddd;border-radius:3px;padding:1px 3px;color:#e01e5a}
    .btn{display:inline-block;border:1px solid #bbb;border-radius:4px;padding:4px 12px;font-weight:bold;font-size:13px}.ctx{color:#616061;font-size:12px}.n{font-weight:bold}.t{color:#616061;font-size:12px}</style>
    <div class="msg"><div class="av">A</div><div><span class="n">allure-host</span> <span class="t">APP 10:42</span>${blocks}</div></div>`;
}

function chatHtml() {
  const card = chat.cardsV2[0].card;
  const widget = (w) => {
    if (w.decoratedText) return `<div class="dt"><div class="tl">${esc(w.decoratedText.topLabel || '')}</div><div>${w.decoratedText.text}</div></div>`;
    if (w.textParagraph) return `<div class="tp">${w.textParagraph.text}</div>`;
    if (w.buttonList) return `<div>${w.buttonList.buttons.map((b) => `<a class="btn">${esc(b.text)}</a>`).join(' ')}</div>`;
    return '';
  };
  const sections = card.sections.map((s) => `<div class="sec">${s.header ? `<div class="sh">${s.header}</div>` : ''}${s.widgets.map(widget).join('')}</div>`).join('');
  return `<style>body{font:14px Roboto,'DejaVu Sans',sans-serif;margin:0;background:#f2f6fc}
    .card{margin:16px;width:560px;background:#fff;border-radius:12px;box-shadow:0 1px 3px #0003;overflow:hidden}
    .hd{padding:16px}.hd b{font-size:16px}.hd div{color:#5f6368}.sec{border-top:1px solid #e0e0e0;padding:12px 16px}
    .sh{color:#1a73e8;font-weight:500;margin-bottom:6px}.dt{margin:6px 0}.tl{color:#5f6368;font-size:12px}.tp{margin:6px 0;line-height:1.5}
    .btn{display:inline-block;color:#1a73e8;border:1px solid #dadce0;border-radius:16px;padding:6px 14px;margin:4px 4px 4px 0}</style>
    <div class="card"><div class="hd"><b>${esc(card.header.title)}</b><div>${esc(card.header.subtitle)}</div></div>${sections}</div>`;
}

// The card parsed, validated and rendered by Microsoft's renderer.
async function adaptiveCard(page, shot) {
  await page.setContent('<body style="margin:0;background:#f5f5f5"><div id="card" style="width:560px;margin:16px;background:#fff;border-radius:6px;box-shadow:0 1px 3px #0003"></div></body>');
  await page.addScriptTag({ path: require.resolve('markdown-it/dist/markdown-it.min.js') });
  await page.addScriptTag({ path: require.resolve('adaptivecards/dist/adaptivecards.min.js') });
  const seen = await page.evaluate((json) => {
    const AC = window.AdaptiveCards;
    AC.AdaptiveCard.onProcessMarkdown = (text, result) => {
      result.outputHtml = window.markdownit().render(text);
      result.didProcess = true;
    };
    const card = new AC.AdaptiveCard();
    card.hostConfig = new AC.HostConfig({ fontFamily: "'Segoe UI', 'DejaVu Sans', sans-serif" });
    const context = new AC.SerializationContext();
    card.parse(json, context);
    const events = [];
    for (let i = 0; i < context.eventCount; i++) events.push(context.getEventAt(i).message);
    const failures = card.validateProperties().validationEvents.map((e) => e.message);
    document.getElementById('card').appendChild(card.render());
    return { events, failures, text: document.getElementById('card').innerText };
  }, teams.attachments[0].content);
  for (const e of [...seen.events, ...seen.failures]) problems.push(`adaptive card: ${e}`);
  if (!seen.text.includes('passed')) problems.push('adaptive card: rendered without its facts');
  if (shot) await page.locator('#card').screenshot({ path: shot });
}

if (mode === 'check-run') {
  const [create, update] = [dir, outDir].map((f) => JSON.stringify(JSON.parse(readFileSync(f, 'utf8'))));
  typecheck([
    "import type { operations } from '@octokit/openapi-types';",
    "type Body<K extends keyof operations> = operations[K] extends { requestBody: { content: { 'application/json': infer B } } } ? B : never;",
    `export const create: Body<'checks/create'> = ${create};`,
    `export const update: Body<'checks/update'> = ${update};`,
  ]);
  for (const [name, body] of [['create', create], ['update', update]]) {
    const summary = JSON.parse(body).output?.summary ?? '';
    if (summary.length > 65535) problems.push(`check run ${name}: summary ${summary.length} > 65535`);
  }
  finish('check run bodies match GitHub\'s API');
}
const read = (name) => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
const slack = read('slack');
const teams = read('teams');
const chat = read('google-chat');
typecheck([
  "import type { KnownBlock } from '@slack/types';",
  "import type { chat_v1 } from '@googleapis/chat';",
  `export const slack: { text: string; blocks: KnownBlock[] } = ${JSON.stringify(slack)};`,
  `export const chat: chat_v1.Schema$Message = ${JSON.stringify(chat)};`,
]);
limits();
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 700, height: 900 }, deviceScaleFactor: 1 });
await adaptiveCard(page, mode === 'preview' ? join(outDir, 'notify-teams.png') : null);
if (mode === 'preview') {
  for (const [name, html] of [['slack', slackHtml()], ['google-chat', chatHtml()]]) {
    await page.setContent(html);
    const box = name === 'slack' ? '.msg' : '.card';
    await page.locator(box).screenshot({ path: join(outDir, `notify-${name}.png`) });
  }
}
await browser.close();
finish(`slack ${slack.blocks.length} blocks, teams card ${Buffer.byteLength(JSON.stringify(teams))} bytes, google chat ${chat.cardsV2[0].card.sections.length} sections`);

function finish(what) {
  if (problems.length) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
  console.log(`ok: ${what}`);
  process.exit(0);
}
