// CloudFront Function (cloudfront-js-2.0), viewer request. It runs before the
// cache, so it decides who may read (docs/access.md), then which object: S3 has
// no folder index, so a folder URL is served its index.html, and a folder URL
// without its slash is redirected to it so the report's relative links resolve.
// Full-line comments are dropped when setup renders it; CONFIG is replaced by
// the site's access settings (ADR 6).
var crypto = require('crypto');
var CONFIG = {"modes":["open"],"keys":{},"users":{},"ips":[]};
var PARAM = 'access';
var COOKIE = 'allure_host_access';
var PUBLIC = '/~allure-host/404.html';
// A project's key segment, as segment encoding makes it: letters, digits,
// '.', '_', '-', escapes ('~' and two hex digits), perhaps a '~H' hash.
var SEGMENT = /^(?:[A-Za-z0-9._-]|~[0-9A-F]{2})+(?:~H[0-9a-f]{20})?$/;
// A token's shape, checked before any HMAC: key id, expiry, scope in hex
// (up to 400 bytes), signature.
var TOKEN = /^[A-Za-z0-9]{1,16}\.[0-9]{1,12}\.([0-9a-f]{2}){1,400}\.[0-9a-f]{64}$/;
// Cookies of our name checked per request: one per scope that can hold a
// path (run, branch, project, all), so the work per request stays bounded.
var MAX_COOKIES = 4;

function handler(event) {
  var request = event.request;
  var now = Math.floor(Date.now() / 1000);
  var ip = event.viewer ? event.viewer.ip : '';
  // Every mode, open too, refuses what clean() refuses. That is what keeps
  // each redirect on the site: a Location is the request's own path (plus
  // '/'), and a clean path starts with '/' followed by neither '/' nor '\'.
  var path = clean(request.uri);
  if (path === null) {
    return denied('address');
  }
  var verdict = admit(request, path, ip, now);
  if (verdict.deny) {
    return denied(verdict.deny, has('basic'));
  }
  if (request.headers) {
    delete request.headers.authorization;
  }
  if (request.cookies) {
    delete request.cookies[COOKIE];
  }
  var folder = route(path);
  if (verdict.link) {
    return handOver(request, folder, verdict.link, now);
  }
  if (folder === 'index') {
    request.uri = request.uri + 'index.html';
  } else if (folder === 'slash') {
    return moved(request.uri + '/' + query(request.querystring), 301, 'max-age=3600');
  }
  return request;
}

// {} lets the request through, {link} trades a token for a cookie,
// {deny: reason} answers with the private page.
function admit(request, path, ip, now) {
  if (has('open') || path === PUBLIC || asset(path) || badge(path)) {
    return {};
  }
  if (has('ip') && allowed(ip)) {
    return {};
  }
  var tried = false;
  if (has('link')) {
    var param = (request.querystring || {})[PARAM];
    if (param) {
      if (param.multiValue && param.multiValue.length > 1) {
        return { deny: 'invalid' };
      }
      var checked = verify(param.value, path, now);
      return checked.why ? { deny: checked.why } : { link: checked };
    }
    var cookie = (request.cookies || {})[COOKIE];
    var values = cookie ? (cookie.multiValue || [cookie]) : [];
    for (var i = 0; i < values.length && i < MAX_COOKIES; i++) {
      if (!verify(values[i].value, path, now).why) {
        return {};
      }
      tried = true;
    }
  }
  var auth = (request.headers || {}).authorization;
  if (has('basic') && auth) {
    if (signedIn(auth.value)) {
      return {};
    }
    tried = true;
  }
  return { deny: tried ? 'invalid' : 'none' };
}

// The pages' stylesheet and script, exactly where the layout writes them:
// <prefix>/<project>/~assets/pages-<hash>.css|js. Publishers choose the
// prefix (the settings do not hold it), so its parts are matched by what a
// prefix may hold: letters, digits, '.', '_', '-'. No S3 key is longer
// than 1,024 bytes, which also bounds the patterns' work.
function asset(path) {
  return placed(path, /^(.*)\/([^/]+)\/~assets\/pages-[0-9a-f]{10}\.(?:css|js)$/);
}

// The status badges, when the site opens them (CONFIG.badges, exactly true;
// anything else opens nothing), exactly where the layout writes them:
// <prefix>/<project>/<branch>/badge.svg and
// <prefix>/<project>/<branch>/variants/<leg>/badge.svg. No run id is
// badge.svg, and a publish leaves out a report file of that name, so no
// report opens this way.
function badge(path) {
  return CONFIG.badges === true && (placed(path, /^(.*)\/([^/]+)\/([^/]+)\/badge\.svg$/) ||
    placed(path, /^(.*)\/([^/]+)\/([^/]+)\/variants\/([^/]+)\/badge\.svg$/));
}

// Whether path matches pattern with its first group a prefix and the others
// key segments.
function placed(path, pattern) {
  var m = path.length <= 1025 && pattern.exec(path);
  for (var i = 2; m && i < m.length; i++) {
    m = SEGMENT.test(m[i]) && m;
  }
  return !!m && /^(?:\/[A-Za-z0-9._-]+)*$/.test(m[1]);
}

function has(mode) {
  return CONFIG.modes.indexOf(mode) >= 0;
}

function own(map, name) {
  return Object.prototype.hasOwnProperty.call(map, name) ? map[name] : null;
}

// The decoded path, or null for what no report address contains: dot
// segments, empty segments, backslashes, encoded slashes or dots, spaces and
// control characters (raw or encoded), more than an S3 key's 1,024 bytes
// (each at most 3 characters encoded).
function clean(uri) {
  if (typeof uri !== 'string' || uri.length > 3073 || uri.charAt(0) !== '/' || /%(2f|5c|2e)|[\\\x00-\x20\x7f]/i.test(uri)) {
    return null;
  }
  var path;
  try {
    path = decodeURIComponent(uri);
  } catch (e) {
    return null;
  }
  if (/\/\/|(^|\/)\.\.?(\/|$)|[\\\x00-\x20\x7f]/.test(path)) {
    return null;
  }
  return path;
}

// A token is kid.expiry.scope.signature: HMAC-SHA256 (hex) with the key's
// secret over "kid.expiry.scope", scope a path ending in '/', in hex. The
// shape (895 characters at most) is checked before any HMAC, so a token
// costs at most one HMAC over 830 bytes.
function verify(token, path, now) {
  if (!TOKEN.test(token)) {
    return { why: 'invalid' };
  }
  var part = token.split('.');
  var key = own(CONFIG.keys, part[0]);
  if (!key || (key.until && now >= key.until)) {
    return { why: 'invalid' };
  }
  var mac = crypto.createHmac('sha256', key.secret).update(part[0] + '.' + part[1] + '.' + part[2]).digest('hex');
  if (!same(mac, part[3])) {
    return { why: 'invalid' };
  }
  var expires = parseInt(part[1], 10);
  if (now >= expires) {
    return { why: 'expired' };
  }
  var scope = Buffer.from(part[2], 'hex').toString('utf8');
  var root = scope.slice(0, -1);
  if (scope.charAt(0) !== '/' || scope.slice(-1) !== '/' || clean(scope) === null) {
    return { why: 'invalid' };
  }
  if (path !== root && path.indexOf(scope) !== 0) {
    return { why: 'scope' };
  }
  return { token: token, root: root || '/', expires: expires };
}

// Compares in time independent of where the strings differ.
function same(a, b) {
  if (a.length !== b.length) {
    return false;
  }
  var diff = 0;
  for (var i = 0; i < a.length; i++) {
    diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  }
  return diff === 0;
}

// Passwords are generated (high entropy), so a salted HMAC is enough.
function signedIn(header) {
  var m = /^Basic ([A-Za-z0-9+/=]{1,400})$/i.exec(header || '');
  if (!m) {
    return false;
  }
  var pair = Buffer.from(m[1], 'base64').toString('utf8');
  var colon = pair.indexOf(':');
  var user = colon > 0 ? own(CONFIG.users, pair.slice(0, colon)) : null;
  if (!user) {
    return false;
  }
  return same(crypto.createHmac('sha256', user.salt).update(pair.slice(colon + 1)).digest('hex'), user.hash);
}

// A range is ADDRESS/LENGTH, LENGTH an integer within the address's family
// (0-32, 0-128); any other range admits nobody.
function allowed(ip) {
  var a = bytes(ip);
  for (var i = 0; a && i < CONFIG.ips.length; i++) {
    var range = String(CONFIG.ips[i]).split('/');
    var net = bytes(range[0]);
    var bits = range.length === 2 && /^[0-9]{1,3}$/.test(range[1]) ? +range[1] : 999;
    if (net && net.length === a.length && bits <= 8 * net.length && within(a, net, bits)) {
      return true;
    }
  }
  return false;
}

// bits is a valid length for the family (allowed() checks it).
function within(a, net, bits) {
  for (var i = 0; i < a.length && bits > 0; i++, bits -= 8) {
    var mask = bits >= 8 ? 255 : (255 << (8 - bits)) & 255;
    if ((a[i] & mask) !== (net[i] & mask)) {
      return false;
    }
  }
  return true;
}

// IPv4 as 4 bytes, IPv6 as 16 (an IPv4-mapped IPv6 address as its IPv4).
function bytes(ip) {
  if (typeof ip !== 'string') {
    return null;
  }
  var v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4) {
    var out = [];
    for (var i = 1; i <= 4; i++) {
      if (+v4[i] > 255) {
        return null;
      }
      out.push(+v4[i]);
    }
    return out;
  }
  var mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) {
    return bytes(mapped[1]);
  }
  var halves = ip.split('::');
  if (halves.length > 2 || !/^[0-9a-f:]+$/i.test(ip)) {
    return null;
  }
  var head = halves[0] ? halves[0].split(':') : [];
  var tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  var fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) {
    return null;
  }
  var groups = head.slice();
  for (var z = 0; halves.length === 2 && z < fill; z++) {
    groups.push('0');
  }
  groups = groups.concat(tail);
  var result = [];
  for (var g = 0; g < groups.length; g++) {
    if (!/^[0-9a-f]{1,4}$/i.test(groups[g])) {
      return null;
    }
    var n = parseInt(groups[g], 16);
    result.push(n >> 8, n & 255);
  }
  return result;
}

// A valid link: the cookie goes to the token's scope, and the reader to the
// same address without the token (so it never reaches a cache key or a log).
function handOver(request, folder, link, now) {
  var to = request.uri + (folder === 'slash' ? '/' : '');
  var response = moved(to + query(request.querystring, PARAM), 302, 'no-store');
  response.cookies = {};
  response.cookies[COOKIE] = {
    value: link.token,
    attributes: 'Path=' + link.root + '; Max-Age=' + (link.expires - now) + '; Secure; HttpOnly; SameSite=Lax'
  };
  return response;
}

var SAYS = {
  none: 'Open it with the link you were given.',
  invalid: 'This link or sign-in is not valid for this site.',
  expired: 'This link has expired. Ask whoever shared it for a new one.',
  scope: 'This link opens another report, not this page. Ask for a link to this one.'
};

// With basic on (prompt), a refusal is always the sign-in prompt, whatever
// was tried: a reader with a password (and, say, a cookie from a rotated-out
// key) must be asked for it, and a browser keeps sending credentials that
// did not sign in until a 401 asks again. A bad address never prompts. 401
// without a prompt: no link was given.
function denied(reason, prompt) {
  var headers = {
    'content-type': { value: 'text/html; charset=utf-8' },
    'cache-control': { value: 'no-store' }
  };
  var status = reason === 'address' ? 400 : prompt || (reason === 'none' && has('link')) ? 401 : 403;
  if (prompt) {
    headers['www-authenticate'] = { value: 'Basic realm="allure-host", charset="UTF-8"' };
  }
  var how = (has('link') ? ' a signed link' : '') + (has('basic') ? ' (or sign in)' : '') +
    (has('ip') ? ' from an allowed network' : '');
  var text = status === 400 ? '' : '<p>' + SAYS[reason] + '</p><p>Only people with access can read it: ask for' + how + '.</p>';
  var title = text ? 'This report is private' : 'This address is not valid';
  return {
    statusCode: status,
    statusDescription: status === 401 ? 'Unauthorized' : status === 400 ? 'Bad Request' : 'Forbidden',
    headers: headers,
    body: {
      encoding: 'text',
      data: '<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width">' +
        '<title>' + title + '</title><body style="font:16px system-ui;max-width:36em;margin:4em auto;padding:0 1em">' +
        '<h1>' + title + '</h1>' + text + '</body>'
    }
  };
}

// 'index' for a folder URL, 'slash' for a folder URL without its slash, ''
// for a file, judged on the decoded path (the object's key, as `serve`
// routes it). A last segment is a file when it ends in an extension: a dot
// and 1-10 letters or digits, one a letter (".woff2", not the ".12" of
// "py-3.12").
function route(path) {
  if (path.endsWith('/')) {
    return 'index';
  }
  var last = path.substring(path.lastIndexOf('/') + 1);
  return /\.(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{1,10}$/.test(last) ? '' : 'slash';
}

// The query string again, without the parameter named skip. Spaces and
// control characters are escaped, so a Location holds none.
function query(params, skip) {
  var parts = [];
  for (var name in params || {}) {
    if (name === skip) {
      continue;
    }
    var param = params[name];
    var values = param.multiValue ? param.multiValue : [param];
    for (var i = 0; i < values.length; i++) {
      parts.push(values[i].value === '' ? name : name + '=' + values[i].value);
    }
  }
  return parts.length ? '?' + parts.join('&').replace(/[\x00-\x20\x7f]/g, encodeURIComponent) : '';
}

function moved(location, status, cache) {
  return {
    statusCode: status,
    statusDescription: status === 301 ? 'Moved Permanently' : 'Found',
    headers: {
      location: { value: location },
      'cache-control': { value: cache }
    }
  };
}
