// Progressive: every page reads fine without this file. It filters table
// rows (text, "only failing", leg) and carries the #fragment through the
// latest pages' redirect. Served from the site itself, so a strict
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
