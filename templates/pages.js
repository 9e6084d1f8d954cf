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

// The tests page's search: every test of history.json (beside the page,
// fetched on the first keystroke), matched by name, each shown as the
// page's lists show a test: its score, a strip of its last outcomes (each a
// link to that run's report at the test) and its failures. The scores
// follow crates/model/src/test_scores.rs; the words follow src/pages/tests.rs.
(function () {
  var finder = document.querySelector('.finder[data-history]');
  if (!finder) return;
  var d = finder.dataset;
  var input = finder.querySelector('input[type=search]');
  var count = finder.querySelector('output');
  var table = finder.querySelector('table');
  var body = table.tBodies[0];
  var th = { flaky: Number(d.flaky), slower: Number(d.slower) };
  var medianRuns = Number(d.medianRuns);
  var slowerBy = Number(d.slowerBy);
  var stripLen = Number(d.strip);
  var max = Number(d.max);
  // The runs on the page's board whose folder is not their id (null: none
  // to link to); any other run's folder is its id encoded as
  // crates/model/src/segment.rs does (a name too long for a segment, whose
  // folder name carries a hash, is linked only when listed here).
  var folders = {};
  try {
    folders = JSON.parse(d.runs || '{}');
  } catch {
    folders = {};
  }
  var WORDS = { P: 'passed', F: 'failed', B: 'broken', S: 'skipped', U: 'unknown', '-': 'not run' };
  var CLASSES = { P: 'passed', F: 'failed', B: 'broken', S: 'skipped', U: 'unknown', '-': 'absent' };
  var CODES = '0123456789abcdefghijklmnopqrstuvwxyz';
  // Where a long name may wrap: after / . :: [ ( (src/pages/tests.rs).
  var BREAK = /(?<=[/.[(])(?=[\s\S])|(?<=:)(?=[^:])/;
  var loading = null;
  var many = false;
  var seq = 0;
  finder.hidden = false;

  function folderOf(id) {
    if (Object.prototype.hasOwnProperty.call(folders, id)) return folders[id];
    if (!id) return null;
    var bytes = new TextEncoder().encode(id);
    var dots = id === '.' || id === '..';
    var out = '';
    for (var i = 0; i < bytes.length; i++) {
      var b = bytes[i];
      var c = String.fromCharCode(b);
      var plain = b < 128 && /[A-Za-z0-9._-]/.test(c) && !(dots && c === '.');
      out += plain ? c : '~' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
    }
    return out.length <= 120 ? out : null;
  }

  function index(h) {
    var all = [];
    many = h.lines.length > 1;
    h.lines.forEach(function (line, n) {
      var label = [line.job, line.variant].filter(function (x) { return x != null; }).join(' · ');
      var runs = line.runs.map(function (r) {
        var f = folderOf(r.id);
        return {
          id: r.id,
          commit: r.commit == null ? null : r.commit,
          href: f == null ? null : '../' + f + '/index.html' + (r.allure === 3 ? '#' : '#testresult/'),
        };
      });
      var ctx = { label: label, runs: runs, n: n };
      line.tests.forEach(function (t) {
        all.push({ lower: t.name.toLowerCase(), line: ctx, t: t });
      });
    });
    all.sort(function (a, b) {
      return a.t.name < b.t.name ? -1 : a.t.name > b.t.name ? 1 : a.line.n - b.line.n;
    });
    return all;
  }

  function load() {
    if (!loading) {
      loading = fetch(d.history, { cache: 'no-cache' })
        .then(function (r) {
          if (!r.ok) throw new Error('HTTP ' + r.status);
          return r.json();
        })
        .then(index);
      loading.catch(function () { loading = null; });
    }
    return loading;
  }

  function isFailing(c) { return c === 'F' || c === 'B'; }

  function score(line, t) {
    var v = [];
    for (var i = 0; i < t.s.length; i++) {
      var c = t.s[i];
      if (c === 'P' || isFailing(c)) v.push([i, isFailing(c)]);
    }
    var runs = v.length;
    var failed = 0;
    var flips = 0;
    v.forEach(function (x, k) {
      if (x[1]) failed++;
      if (k > 0 && v[k - 1][1] !== x[1]) flips++;
    });
    var flipRate = runs > 1 ? flips / (runs - 1) : 0;
    var commit = function (i) { return line.runs[i] ? line.runs[i].commit : null; };
    var rerunFlip = v.some(function (x) {
      var c = commit(x[0]);
      return x[1] && c != null && v.some(function (y) { return !y[1] && commit(y[0]) === c; });
    });
    var latest = t.s.length ? t.s[t.s.length - 1] : '-';
    var latestMs = null;
    var medianMs = null;
    var last = t.d.length - 1;
    if (last >= 0) {
      latestMs = t.d[last] == null ? null : t.d[last];
      // Only verdicts' durations: a skipped run's few ms say nothing.
      var earlier = t.d.slice(0, last).filter(function (x, i) {
        return x != null && /[PFB]/.test(t.s.charAt(i));
      });
      if (earlier.length >= medianRuns) {
        earlier.sort(function (a, b) { return a - b; });
        var mid = earlier.length >> 1;
        medianMs = earlier.length % 2 === 0 ? Math.floor((earlier[mid - 1] + earlier[mid]) / 2) : earlier[mid];
      }
    }
    var ratio = latestMs != null && medianMs != null && medianMs > 0 ? latestMs / medianMs : null;
    return {
      runs: runs,
      failed: failed,
      flipRate: flipRate,
      rerunFlip: rerunFlip,
      flaky: rerunFlip || (flips >= 2 && flipRate >= th.flaky),
      newFailure: isFailing(latest) && (v.length < 2 || !v[v.length - 2][1]),
      latestMs: latestMs,
      medianMs: medianMs,
      ratio: ratio,
      slower: ratio != null && ratio >= th.slower && latestMs >= medianMs + slowerBy,
    };
  }

  function ms(n) {
    if (n < 1000) return n + ' ms';
    if (n < 60000) return (Math.round(n / 100) / 10).toFixed(1) + ' s';
    var s = Math.floor((n % 60000) / 1000);
    return Math.floor(n / 60000) + 'm ' + (s < 10 ? '0' : '') + s + 's';
  }

  function facts(s) {
    var out = [];
    if (s.newFailure) out.push(['b failed', 'new failure']);
    if (s.flaky) out.push(['b flaky', 'flaky']);
    if (s.rerunFlip) out.push(['b flaky', 're-run flip', 'failed and passed on one commit']);
    if (s.runs > 0) out.push([s.failed > 0 ? 'failed' : '', 'failed ' + s.failed + ' of ' + s.runs]);
    if (s.runs > 1) out.push([s.flaky ? 'flaky' : '', 'flip rate ' + Math.round(s.flipRate * 100) + '%']);
    if (s.latestMs != null) out.push(['', 'latest ' + ms(s.latestMs)]);
    if (s.medianMs != null) out.push(['', 'median ' + ms(s.medianMs)]);
    if (s.slower) out.push(['slower', (Math.round(s.ratio * 10) / 10).toFixed(1) + '× its median']);
    return out;
  }

  function failures(t) {
    var seen = t.failures || [];
    var counts = seen.map(function (f) {
      return { signature: f.signature, message: f.message, first: f.first_seen, count: 0 };
    });
    for (var i = 0; i < t.f.length; i++) {
      var k = CODES.indexOf(t.f[i]);
      if (k < 0 || k >= seen.length) continue;
      for (var j = 0; j < counts.length; j++) {
        if (counts[j].signature === seen[k].signature) {
          counts[j].count++;
          break;
        }
      }
    }
    counts.sort(function (a, b) { return b.count - a.count; });
    return counts.filter(function (c) { return c.count > 0; });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function rowOf(m) {
    var t = m.t;
    var runs = m.line.runs;
    var tr = document.createElement('tr');
    var name = tr.appendChild(el('td', 'test'));
    var parts = name.appendChild(el('span', 'name'));
    t.name.split(BREAK).forEach(function (p, k) {
      if (k) parts.appendChild(document.createElement('wbr'));
      parts.appendChild(document.createTextNode(p));
    });
    if (many && m.line.label) name.appendChild(el('span', 'line', m.line.label));
    var sc = tr.appendChild(el('td', 'score'));
    facts(score(m.line, t)).forEach(function (f) {
      var span = sc.appendChild(el('span', f[0], f[1]));
      if (f[2]) span.title = f[2];
    });
    var strip = tr.appendChild(el('td', 'strip'));
    for (var col = Math.max(0, runs.length - stripLen); col < runs.length; col++) {
      var c = t.s[col];
      var run = runs[col];
      var title = run.id + ': ' + (WORDS[c] || 'unknown');
      if (c !== '-' && t.d[col] != null) title += ', ' + ms(t.d[col]);
      var link = c !== '-' && t.u[col] != null && run.href != null;
      var o = el(link ? 'a' : 'span', 'o ' + (CLASSES[c] || 'unknown'));
      o.title = title;
      if (link) {
        o.setAttribute('href', run.href + t.u[col]);
      }
      strip.appendChild(o);
    }
    var fails = tr.appendChild(el('td', 'fails'));
    var all = failures(t);
    all.slice(0, 3).forEach(function (f) {
      var p = fails.appendChild(el('p'));
      p.appendChild(el('b', null, f.count + '×'));
      p.appendChild(document.createTextNode(' '));
      p.appendChild(el('code', null, f.message || '(no message)'));
      p.appendChild(document.createTextNode(' '));
      p.appendChild(el('span', 'muted', 'since ' + f.first));
    });
    if (all.length > 3) fails.appendChild(el('p', 'muted', 'and ' + (all.length - 3) + ' more'));
    return tr;
  }

  function search() {
    var q = input.value.trim().toLowerCase();
    var mine = ++seq;
    if (!q) {
      table.hidden = true;
      body.textContent = '';
      count.textContent = '';
      finder.removeAttribute('data-shown');
      return;
    }
    if (!loading) count.textContent = 'Loading every test…';
    load().then(function (all) {
      if (mine !== seq) return;
      var found = [];
      var n = 0;
      for (var i = 0; i < all.length; i++) {
        if (all[i].lower.indexOf(q) < 0) continue;
        n++;
        if (found.length < max) found.push(all[i]);
      }
      var rows = document.createDocumentFragment();
      found.forEach(function (m) { rows.appendChild(rowOf(m)); });
      body.textContent = '';
      body.appendChild(rows);
      table.hidden = n === 0;
      count.textContent = n === 0 ? 'No test matches.'
        : n > found.length ? 'The first ' + found.length + ' of ' + n + ' matching tests'
          : n + ' matching test' + (n === 1 ? '' : 's');
      // What a measurement or a test waits for.
      finder.setAttribute('data-shown', q);
    }, function (e) {
      if (mine !== seq) return;
      count.textContent = 'Could not load the tests (' + e.message + ').';
    });
  }

  input.addEventListener('input', search);
  if (input.value) search();
})();
