// The HTML report's self-test: never shipped in a report. The browser tests
// (HTMLReportTests.browse) and benchmarks/report/run.sh inject it as a second inline script
// after the page's own (the page's CSP allows inline scripts); it drives the page's controls
// and writes what the page then shows, as JSON, into a new pre element (id forkcast-selftest).
// It reads the page's state from window.__forkcastPage and window.__forkcastErrors.
(function () {
'use strict';
var errors = window.__forkcastErrors || ['selftest: the page script did not start'];
var page = window.__forkcastPage || {};
var FG = page.flame, TL = page.timeline, E = page.experiment;
if (!window.__forkcastPage) errors.push('selftest: the page script did not finish');
function names() {
  return Array.prototype.map.call(document.querySelectorAll('#fg-svg .fg-node'), function (g) { return g.getAttribute('data-name'); });
}
function selfTest() {
  var r = { errors: errors.slice(), flame: null, timeline: null, experiment: null, headline: null };
  var sentence = document.getElementById('rec-sentence');
  r.headline = sentence ? sentence.textContent : null;
  var margin = document.getElementById('rec-margin');
  r.headlineDetail = margin ? margin.textContent : null;
  if (FG) {
    var before = names();
    var biggest = null, bw = -1;
    Array.prototype.forEach.call(document.querySelectorAll('#fg-svg .fg-node'), function (g) {
      var n = +g.getAttribute('data-node'), w = +g.querySelector('rect').getAttribute('width');
      var depthOk = n !== 0 && g.getAttribute('data-row') === '1';
      if (depthOk && w > bw) { bw = w; biggest = g; }
    });
    var zoomed = null;
    if (biggest) {
      var sib = Array.prototype.filter.call(document.querySelectorAll('#fg-svg .fg-node'), function (g) { return g.getAttribute('data-row') === '2'; }).map(function (g) { return g.getAttribute('data-name'); });
      biggest.dispatchEvent(new MouseEvent('click', { bubbles: true }));
      zoomed = { target: biggest.getAttribute('data-name'), names: names(), info: document.getElementById('fg-info').textContent, depth2Before: sib };
      document.getElementById('fg-reset').click();
    }
    var stateSel = document.getElementById('fg-state'), byState = {};
    Array.prototype.forEach.call(stateSel.options, function (o) {
      stateSel.value = o.value; stateSel.dispatchEvent(new Event('change'));
      byState[o.value] = { names: names(), info: document.getElementById('fg-info').textContent, total: FG.total[0] };
    });
    stateSel.value = 'all'; stateSel.dispatchEvent(new Event('change'));
    var search = document.getElementById('fg-search');
    search.value = before.length > 1 ? before[before.length - 1] : 'x';
    search.dispatchEvent(new Event('input'));
    var matched = document.querySelectorAll('#fg-svg .fg-node.match').length;
    search.value = ''; search.dispatchEvent(new Event('input'));
    r.flame = { names: before, zoom: zoomed, byState: byState, searchMatches: matched };
  }
  if (TL) {
    var v = TL.view();
    document.getElementById('tl-zoom-in').click();
    var v2 = TL.view();
    document.getElementById('tl-reset').click();
    r.timeline = { lanes: document.querySelectorAll('#tl-labels .tl-label').length, laneTids: Array.prototype.map.call(document.querySelectorAll('#tl-labels .tl-label'), function (e) { return +e.getAttribute('data-tid'); }),
      groups: document.querySelectorAll('#tl-labels .tl-group').length, viewBefore: v, viewZoomed: v2 };
  }
  var series = document.querySelectorAll('#exp-speedup .series');
  if (series.length || E) r.experiment = { series: Array.prototype.map.call(series, function (g) { return { strategy: g.getAttribute('data-strategy'), points: g.querySelectorAll('circle').length, predicted: g.querySelectorAll('circle.predicted').length, fits: g.querySelectorAll('path.fit').length }; }),
    waitBars: document.querySelectorAll('#exp-waits rect').length,
    rows: document.querySelectorAll('#exp-table tbody tr').length };
  r.threads = Array.prototype.map.call(document.querySelectorAll('#threads tbody tr'), function (tr) {
    var cells = tr.querySelectorAll('td');
    return { name: cells[0].textContent, tid: +cells[1].textContent, onCPU: cells[4].textContent };
  });
  r.numbers = Array.prototype.map.call(document.querySelectorAll('#headline .number'), function (e) { return e.textContent; });
  var threadsNote = document.querySelector('#threads p.muted');
  r.threadsNote = threadsNote ? threadsNote.textContent : null;
  var machineLoad = document.getElementById('machine-load');
  r.machineLoad = machineLoad ? machineLoad.textContent : null;
  r.readyMs = window.__forkcastReadyMs;
  r.pwned = window.__pwned === undefined ? null : window.__pwned;
  r.errors = errors.slice();
  return r;
}
var out = document.createElement('pre');
out.id = 'forkcast-selftest';
try { out.textContent = JSON.stringify(selfTest()); } catch (e) { out.textContent = JSON.stringify({ errors: errors.concat(['selftest: ' + e]) }); }
document.body.appendChild(out);
})();
