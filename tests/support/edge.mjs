// A small local edge: the viewer-request function in front of a site folder,
// as CloudFront runs it in front of the bucket. Each request becomes
// CloudFront's event; the function's response is sent as is, and a request
// it lets through is served from the folder (a miss is a 404).
// Usage: node edge.mjs SITE_DIR FUNCTION_JS   (prints the base URL)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [site, functionFile] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const handler = new Function('require', `${fs.readFileSync(functionFile, 'utf8')}\nreturn handler;`)(require);
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'application/javascript', '.css': 'text/css',
  '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
  '.woff': 'font/woff', '.woff2': 'font/woff2', '.txt': 'text/plain' };

function event(req) {
  const url = new URL(req.url, 'http://edge');
  const querystring = {};
  for (const [name, value] of url.searchParams) {
    const entry = querystring[name];
    if (!entry) querystring[name] = { value };
    else (entry.multiValue ||= [{ value: entry.value }]).push({ value });
  }
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name] = { value: String(value) };
  const cookies = {};
  for (const pair of (req.headers.cookie || '').split(/;\s*/).filter(Boolean)) {
    const i = pair.indexOf('=');
    const name = pair.slice(0, i);
    const value = pair.slice(i + 1);
    if (!cookies[name]) cookies[name] = { value };
    else (cookies[name].multiValue ||= [{ value: cookies[name].value }]).push({ value });
  }
  const raw = req.url.split('?')[0];
  return { version: '1.0', viewer: { ip: req.socket.remoteAddress.replace(/^::ffff:/, '') },
    request: { method: req.method, uri: raw, querystring, headers, cookies } };
}

http.createServer((req, res) => {
  const out = handler(event(req));
  if (out.statusCode) {
    const headers = {};
    for (const [name, h] of Object.entries(out.headers || {})) headers[name] = h.value;
    const cookies = Object.entries(out.cookies || {}).map(([n, c]) => `${n}=${c.value}; ${c.attributes}`);
    if (cookies.length) headers['set-cookie'] = cookies;
    res.writeHead(out.statusCode, headers);
    res.end(out.body ? out.body.data : '');
    return;
  }
  const file = path.join(site, decodeURIComponent(out.uri));
  fs.readFile(file, (err, data) => {
    if (err) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
    res.end(data);
  });
}).listen(0, '127.0.0.1', function () {
  console.log(`http://127.0.0.1:${this.address().port}`);
});
