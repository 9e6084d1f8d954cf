// Progressive: every page reads fine without this file. It filters table
// rows (text, "only failing", leg), carries the #fragment through the
// latest pages' redirect, and on a tests page searches every test of the
// branch's history.json. Served from the site itself, so a strict
// Content-Security-Policy (script-src 'self') allows it.
(function () {
  var run = document.querySelector('meta[name="allure-host-target"]');
  if (run) {
    location.replace(run.content + location.hash);
    return;
  }
  var table = document.querySelector('table[data-filter]');
  var controls = document.querySelector('.controls');
  if (!table || !controls) return;
  controls.hidden = false;
  var text = controls.querySelector('input[type=search]');
  var failing = controls.querySelector('input[type=checkbox]');
  var leg = controls.querySelector('select');
  var count = controls.querySelector('output');
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  function apply() {
    var q = (text && text.value || '').toLowerCase();
    var shown = 0;
    rows.forEach(function (r) {
      var ok = (!q || (r.getAttribute('data-q') || r.textContent).toLowerCase().indexOf(q) >= 0) &&
        (!failing || !failing.checked || r.getAttribute('data-failing') === '1') &&
        (!leg || !leg.value || r.getAttribute('data-leg') === leg.value);
      r.hidden = !ok;
      if (ok) shown++;
    });
    if (count) count.textContent = shown + ' of ' + rows.length;
  }
  [text, failing, leg].forEach(function (el) {
    if (el) el.addEventListener('input', apply);
  });
  apply();
})();

// The tests page's search: history.json is fetched on the first keystroke;
// each matching test is scored as crates/model/src/test_scores.rs defines
// (only passed, failed and broken count) and shown like the static rows.
(function () {
  var finder = document.querySelector('section.finder');
  if (!finder) return;
  finder.hidden = false;
  var input = finder.querySelector('input[type=search]');
  var count = finder.querySelector('output');
  var table = finder.querySelector('table.found');
  var d = finder.dataset;
  var strip = +d.strip, max = +d.max, flakyAt = +d.flaky, slowerAt = +d.slower;
  var medianRuns = +d.medianRuns, slowerBy = +d.slowerBy;
  var folders = JSON.parse(d.runs || '{}');
  var history = null, loading = null;
  var words = { P: 'passed', F: 'failed', B: 'broken', S: 'skipped', U: 'unknown', '-': 'not run' };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function ms(v) {
    if (v < 1000) return v + ' ms';
    if (v < 60000) return (Math.round(v / 100) / 10).toFixed(1) + ' s';
    var m = Math.floor(v / 60000), s = Math.floor(v % 60000 / 1000);
    return m + 'm ' + (s < 10 ? '0' : '') + s + 's';
  }
  // A run id as its folder (model/src/segment.rs): plain bytes kept, others
  // ~XX; a name too long for a segment is looked up or not linked.
  function folder(id) {
    if (Object.prototype.hasOwnProperty.call(folders, id)) return folders[id];
    var bytes = new TextEncoder().encode(id), out = '';
    var dots = id === '.' || id === '..';
    for (var i = 0; i < bytes.length; i++) {
      var b = bytes[i], c = String.fromCharCode(b);
      var plain = /[A-Za-z0-9._-]/.test(c) && b < 128 && !(dots && c === '.');
      out += plain ? c : '~' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
    }
    return out.length <= 120 ? out : null;
  }
  function score(line, t) {
    var v = [], i;
    for (i = 0; i < t.s.length; i++) {
      var c = t.s[i];
      if (c === 'P' || c === 'F' || c === 'B') v.push({ i: i, fail: c !== 'P' });
    }
    var failed = 0, flips = 0, rerun = false;
    v.forEach(function (x, k) {
      if (x.fail) failed++;
      if (k > 0 && v[k - 1].fail !== x.fail) flips++;
    });
    v.forEach(function (x) {
      var commit = line.runs[x.i].commit;
      if (!x.fail || !commit) return;
      v.forEach(function (y) { if (!y.fail && line.runs[y.i].commit === commit) rerun = true; });
    });
    var rate = v.length > 1 ? flips / (v.length - 1) : 0;
    var last = t.d.length - 1, latest = last >= 0 ? t.d[last] : null;
    var earlier = t.d.slice(0, Math.max(last, 0)).filter(function (x) { return x !== null; })
      .sort(function (a, b) { return a - b; });
    var median = null;
    if (earlier.length >= medianRuns) {
      var mid = earlier.length >> 1;
      median = earlier.length % 2 ? earlier[mid] : Math.floor((earlier[mid - 1] + earlier[mid]) / 2);
    }
    var ratio = latest !== null && median ? latest / median : null;
    return {
      runs: v.length, failed: failed, rate: rate, rerun: rerun,
      flaky: rerun || (flips >= 2 && rate >= flakyAt), latest: latest, median: median,
      slower: ratio !== null && ratio >= slowerAt && latest >= median + slowerBy, ratio: ratio
    };
  }
  function row(h, line, t) {
    var s = score(line, t), tr = el('tr');
    var name = el('td', 'test');
    name.appendChild(el('span', 'name', t.name));
    if (h.lines.length > 1) {
      var label = [line.job, line.variant].filter(Boolean).join(' · ');
      if (label) name.appendChild(el('span', 'line', label));
    }
    tr.appendChild(name);
    var sc = el('td', 'score');
    if (s.flaky) sc.appendChild(el('span', 'b flaky', 'flaky'));
    if (s.rerun) sc.appendChild(el('span', 'b flaky', 'failed and passed on one commit'));
    if (s.runs > 0) sc.appendChild(el('span', s.failed ? 'failed' : '', 'failed ' + s.failed + ' of ' + s.runs));
    if (s.runs > 1) sc.appendChild(el('span', s.flaky ? 'flaky' : '', 'flip rate ' + Math.round(s.rate * 100) + '%'));
    if (s.latest !== null) sc.appendChild(el('span', '', 'latest ' + ms(s.latest)));
    if (s.median !== null) sc.appendChild(el('span', '', 'median ' + ms(s.median)));
    if (s.slower) sc.appendChild(el('span', 'slower', (Math.round(s.ratio * 10) / 10).toFixed(1) + '× its median'));
    tr.appendChild(sc);
    var cells = el('td', 'strip');
    for (var i = Math.max(0, line.runs.length - strip); i < line.runs.length; i++) {
      var run = line.runs[i], c = t.s[i], cls = 'o ' + words[c].replace('not run', 'absent');
      var title = run.id + ': ' + words[c] + (t.d[i] !== null && c !== '-' ? ', ' + ms(t.d[i]) : '');
      var f = c !== '-' && t.u[i] ? folder(run.id) : null, cell;
      if (f) {
        cell = el('a', cls);
        cell.href = '../' + f + '/index.html' + (run.allure === 3 ? '#' : '#testresult/') + t.u[i];
      } else {
        cell = el('span', cls);
      }
      cell.title = title;
      cells.appendChild(cell);
    }
    tr.appendChild(cells);
    var fails = el('td', 'fails');
    (t.failures || []).forEach(function (f, k) {
      var code = '0123456789abcdefghijklmnopqrstuvwxyz'[k], n = t.f.split(code).length - 1;
      if (!n) return;
      var p = el('p');
      p.appendChild(el('b', '', n + '×'));
      p.appendChild(document.createTextNode(' '));
      p.appendChild(el('code', '', f.message || '(no message)'));
      p.appendChild(el('span', 'muted', ' since ' + f.first_seen));
      fails.appendChild(p);
    });
    tr.appendChild(fails);
    return tr;
  }
  function search() {
    var q = input.value.trim().toLowerCase(), body = table.tBodies[0];
    while (body.firstChild) body.removeChild(body.firstChild);
    if (!q) { table.hidden = true; count.textContent = ''; return; }
    var found = 0;
    history.lines.forEach(function (line) {
      line.tests.forEach(function (t) {
        if (t.name.toLowerCase().indexOf(q) < 0) return;
        if (found++ < max) body.appendChild(row(history, line, t));
      });
    });
    table.hidden = found === 0;
    count.textContent = found > max ? 'first ' + max + ' of ' + found + ' matching tests'
      : found + ' matching test' + (found === 1 ? '' : 's');
  }
  input.addEventListener('input', function () {
    if (history) return search();
    count.textContent = 'loading every test…';
    loading = loading || fetch(d.history, { credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (h) { history = h; search(); })
      .catch(function (e) { loading = null; count.textContent = 'could not load the tests (' + e.message + ')'; });
  });
})();
