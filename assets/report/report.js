(function () {
'use strict';
var errors = [];
window.__forkcastErrors = errors;
window.addEventListener('error', function (e) { errors.push(String(e.message || e)); });
var D = JSON.parse(document.getElementById('forkcast-data').textContent);
var A = D.analysis, E = D.experiment, M = D.meta;
var STATES = D.states;
var STATE_LABEL = { on_cpu: 'on CPU', runnable: 'runnable (CPU-starved)', gil_wait: 'waiting for the GIL',
  lock_wait: 'waiting on a lock', io_wait: 'waiting on I/O', sleep: 'sleeping', child_wait: 'waiting for a child', other: 'other wait' };
var FACTOR_LABEL = { task_type: 'CPU vs I/O', gil: 'GIL', ipc: 'IPC / data sharing', startup: 'Start-up cost', locks: 'Locks',
  memory: 'Memory', cpu_starvation: 'CPU starvation', scaling: 'Scaling', measured: 'Measured', other: 'Other' };
var FACTORS = ['task_type', 'gil', 'ipc', 'startup', 'locks', 'memory'];
var css = getComputedStyle(document.documentElement);
function cssVar(n) { return css.getPropertyValue(n).trim() || '#888'; }
var STATE_COLOR = STATES.map(function (s) { return cssVar('--st-' + s); });
var DARK = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;

function h(tag, attrs) {
  var e = document.createElement(tag);
  if (attrs) for (var k in attrs) {
    var v = attrs[k];
    if (v == null) continue;
    if (k === 'class') e.className = v;
    else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (var i = 2; i < arguments.length; i++) append(e, arguments[i]);
  return e;
}
function append(e, kid) {
  if (kid == null || kid === false) return;
  if (Array.isArray(kid)) { kid.forEach(function (k) { append(e, k); }); return; }
  e.appendChild(kid instanceof Node ? kid : document.createTextNode(String(kid)));
}
var SVGNS = 'http://www.w3.org/2000/svg';
function s(tag, attrs) {
  var e = document.createElementNS(SVGNS, tag);
  if (attrs) for (var k in attrs) if (attrs[k] != null) e.setAttribute(k, attrs[k]);
  for (var i = 2; i < arguments.length; i++) append(e, arguments[i]);
  return e;
}
function fmtNs(ns) {
  if (!isFinite(ns)) return '–';
  var a = Math.abs(ns);
  if (a >= 1e9) return (ns / 1e9).toFixed(a >= 1e11 ? 0 : 2) + ' s';
  if (a >= 1e6) return (ns / 1e6).toFixed(1) + ' ms';
  if (a >= 1e3) return (ns / 1e3).toFixed(1) + ' µs';
  return Math.round(ns) + ' ns';
}
function fmtPct(x) { return isFinite(x) ? (x * 100).toFixed(x < 0.1 ? 1 : 0) + '%' : '–'; }
function fmtNum(x) {
  if (!isFinite(x)) return '–';
  var a = Math.abs(x);
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}
function fmtBytes(b) {
  if (!isFinite(b)) return '–';
  var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return (i ? b.toFixed(1) : b) + ' ' + u[i];
}
function fmtMetric(key, v) {
  var k = key.toLowerCase();
  if (/(share|ratio|fraction|percent|pct|utili[sz]ation)/.test(k) && v <= 1.0001 && v >= 0) return fmtPct(v);
  if (/(_ns|nanos)$/.test(k)) return fmtNs(v);
  if (/(_s|seconds|_sec)$/.test(k)) return fmtNum(v) + ' s';
  if (/(bytes|rss)/.test(k)) return fmtBytes(v);
  if (/speedup/.test(k)) return fmtNum(v) + '×';
  return fmtNum(v);
}
function pk(o) { for (var i = 1; i < arguments.length; i++) if (o && o[arguments[i]] != null) return o[arguments[i]]; return null; }
function prettyKey(k) { return k.replace(/_/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2'); }
function base(p) { var i = p.lastIndexOf('/'); return i >= 0 ? p.slice(i + 1) : p; }
var tip = document.getElementById('tooltip');
function showTip(ev, text) {
  tip.textContent = text; tip.style.display = 'block';
  var x = ev.clientX + 14, y = ev.clientY + 14, r = tip.getBoundingClientRect();
  if (x + r.width > window.innerWidth - 8) x = Math.max(8, ev.clientX - r.width - 14);
  if (y + r.height > window.innerHeight - 8) y = Math.max(8, ev.clientY - r.height - 14);
  tip.style.left = x + 'px'; tip.style.top = y + 'px';
}
function hideTip() { tip.style.display = 'none'; }
function na(text) { return h('p', { class: 'na' }, text); }
function section(id, title) {
  var sec = h('section', { class: 'card', id: id }, h('h2', null, title));
  document.getElementById('content').appendChild(sec);
  return sec;
}
function stateBar(counts) {
  var total = counts.reduce(function (a, b) { return a + b; }, 0) || 1;
  var bar = h('div', { class: 'bar' });
  counts.forEach(function (c, i) {
    if (c > 0) bar.appendChild(h('span', { style: 'width:' + (c / total * 100) + '%;background:' + STATE_COLOR[i], title: STATE_LABEL[STATES[i]] + ' ' + fmtPct(c / total) }));
  });
  return bar;
}
function stackBlock(frames) { return h('div', { class: 'stack mono' }, frames.join('\n')); }

/* ---------- totals from the profile ---------- */
var threads = D.threads || [], processes = D.processes || [];
var stateTotals = STATES.map(function () { return 0; });
// A thread the analysis corrected for observer bias counts at its corrected shares (the
// kernel's running time; docs/analysis.md): the page's totals must not repeat the bias.
var corrected = {};
((A && A.threads) || []).forEach(function (a) { if (a.measured && a.measured.biased && a.sampled_states) corrected[a.pid + '/' + a.tid] = a.states; });
threads.forEach(function (t) {
  var fix = corrected[t.pid + '/' + t.tid], n = t.counts.reduce(function (a, b) { return a + b; }, 0);
  t.counts.forEach(function (c, i) { stateTotals[i] += fix && fix[STATES[i]] != null ? fix[STATES[i]] * n : c; });
});
var sampleTotal = stateTotals.reduce(function (a, b) { return a + b; }, 0);

/* ---------- header ---------- */
(function header() {
  var title = M ? M.program : 'experiment';
  var hdr = document.getElementById('hdr');
  hdr.appendChild(h('div', null, h('h1', null, 'Forkcast report — ' + title),
    h('div', { class: 'muted cmd mono' }, M ? M.command : (E && E.setup && E.setup.command ? E.setup.command.join(' ') : (E && E.runs ? E.runs.length + ' runs' : '')))));
  if (M) hdr.appendChild(h('div', { class: 'muted' }, M.startedAt + ' · ' + fmtNs(M.durationNs) + ' · ' + M.samples.toLocaleString('en-US') +
    ' samples at ' + M.rateHz + ' Hz · ' + threads.length + ' thread' + (threads.length === 1 ? '' : 's') + ' in ' + processes.length + ' process' + (processes.length === 1 ? '' : 'es') +
    ' · ' + M.cores + ' cores'));
})();

/* ---------- headline ---------- */
// A configuration as the CLI names it: "threads×4", "hybrid×4 (2 processes × 2 threads)", "serial".
function hybridSplit(c) {
  var row = E && (E.summary || []).filter(function (x) { return x.strategy === c.strategy && x.workers === c.workers && (x.python || null) === (c.python || null); })[0];
  var p = row && pk(row, 'hybrid_processes'), t = row && pk(row, 'hybrid_threads');
  return p && t ? p + ' process' + (p === 1 ? '' : 'es') + ' × ' + t + ' thread' + (t === 1 ? '' : 's') : null;
}
function configName(c) {
  if (!c) return 'a configuration';
  if (c.strategy === 'serial') return 'serial' + (c.python ? ' on ' + c.python : '');
  var split = c.strategy === 'hybrid' ? hybridSplit(c) : null;
  return c.strategy + '×' + c.workers + (split ? ' (' + split + ')' : '') + (c.python ? ' on ' + c.python : '');
}
// The headline sentence for every outcome: a strategy to use, keep, or undecided (from an
// experiment, say why it could not decide; from a recording, that the recording cannot tell).
function headlinePhrase(R, fromExperiment) {
  var w = R.workers, U = R.undecided;
  switch (R.strategy) {
    case 'serial': return 'Run it serially: parallel workers do not pay off here.';
    case 'threads': return 'Use threads: ' + w + ' worker thread' + (w === 1 ? '' : 's') + '.';
    case 'processes': return 'Use processes: ' + w + ' worker process' + (w === 1 ? '' : 'es') + '.';
    case 'hybrid':
      var split = hybridSplit({ strategy: 'hybrid', workers: w });
      return 'Use a hybrid: ' + (split ? split : 'processes with threads inside') + ' (' + w + ' workers).';
    case 'keep': return 'Keep the current design: its concurrency model is not what limits this program.';
    case 'undecided':
      if (!fromExperiment) return 'Undecided: this recording cannot tell what would help.';
      var kind = U && U.kind, cands = (U && U.candidates) || [];
      if (kind === 'not_varied') return 'No advice: the experiment could not vary the program\'s concurrency, so every run measured the same code.';
      if (kind === 'all_failed') return 'No advice: no configuration completed its runs cleanly.';
      if (kind === 'output_differs') return 'No advice: the configurations\' outputs differ.';
      if (cands.length === 2) return 'Undecided between ' + configName(cands[0]) + ' and ' + configName(cands[1]) + ': the runs could not tell them apart.';
      return 'Undecided: the runs could not separate the fastest configurations.';
    default: return 'Recommendation: ' + R.strategy + (w > 0 ? ' with ' + w + ' workers' : '') + '.';
  }
}
// The second line: how the experiment decided (a clear win, an equivalence tie, the worker
// count left open) or, when undecided, the margin seen and the rounds likely needed.
function marginSentence(R) {
  var U = R.undecided;
  if (R.strategy === 'undecided') {
    if (!U || !U.ratio) return null;
    var m = U.ratio, need = pk(U, 'rounds_likely_needed', 'roundsLikelyNeeded');
    return 'Paired time ratio ' + fmtNum(m.median) + '× (95% interval ' + fmtNum(m.low) + '–' + fmtNum(m.high) + ', ' + m.pairs + ' rounds)' +
      (need != null ? '; about ' + need + ' more round' + (need === 1 ? '' : 's') + ' would likely decide it.' : '; more rounds would not likely decide it.');
  }
  if (R.margin == null || R.decisive == null) return null;
  var ru = pk(R, 'runner_up', 'runnerUp'), tied = pk(R, 'tied_with', 'tiedWith') || [];
  if (R.decisive) return 'A clear win: ' + (ru ? 'the runner-up (' + configName(ru) + ')' : 'the runner-up') + ' takes ' + fmtPct(R.margin) + ' longer, outside the confidence intervals.';
  if (tied.length) return 'Practically equivalent to ' + tied.map(configName).join(', ') + ' (within ±' + fmtPct(R.equivalence != null ? R.equivalence : 0.05) + '): the cheaper configuration is chosen.';
  return 'The strategy is settled; the worker count is not' + (ru ? ' (' + configName(ru) + ' could not be told apart)' : '') + '.';
}
var REC = (E && E.recommendation) || (A && A.recommendation) || null;
(function headline() {
  var sec = section('headline', 'Recommendation');
  if (!REC) {
    sec.appendChild(h('p', { class: 'headline-sentence', id: 'rec-sentence' }, 'No recommendation available'));
    sec.appendChild(na(A ? 'The analysis made no recommendation for this profile.' : 'This report was written without an analysis; run `forkcast analyze` or `forkcast experiment` for advice.'));
  } else {
    var phrase = headlinePhrase(REC, REC === (E && E.recommendation));
    var undecided = REC.strategy === 'undecided';
    var c = REC.confidence, cw = c >= 0.8 ? 'high' : c >= 0.5 ? 'medium' : 'low';
    sec.appendChild(h('p', { class: 'headline-sentence', id: 'rec-sentence', 'data-strategy': REC.strategy }, phrase,
      undecided || c == null ? null : h('span', { class: 'confidence' }, cw + ' confidence · ' + fmtPct(c))));
    var ff = pk(REC, 'fixFirst', 'fix_first');
    if (ff) sec.appendChild(h('p', { class: 'fixfirst' }, (/^\s*fix/i.test(ff.text) ? '⚠ ' : '⚠ Fix this first: ') + ff.text));
    var why = marginSentence(REC);
    if (why) sec.appendChild(h('p', { class: 'muted', id: 'rec-margin' }, why));
    if (REC.reasons && REC.reasons[0]) sec.appendChild(h('p', null, REC.reasons[0].text));
  }
  // Three numbers: the recommendation's own metrics first, then the profile's.
  var nums = [];
  // The most telling metric of each reason first: speedups and shares over interval bounds.
  function rank(k) { return /speedup/.test(k) ? 0 : /share|ratio/.test(k) ? 1 : /margin|parallelism/.test(k) ? 2 : /^ci_|_low|_high/.test(k) ? 9 : 5; }
  if (REC) (REC.reasons || []).forEach(function (r) {
    var keys = Object.keys(r.metrics || {}).sort(function (a, b) { return rank(a) - rank(b); });
    if (keys.length && nums.length < 3) nums.push({ v: fmtMetric(keys[0], r.metrics[keys[0]]), k: prettyKey(keys[0]) + ' (' + (FACTOR_LABEL[r.factor] || r.factor) + ')' });
  });
  if (REC) (REC.reasons || []).forEach(function (r) {
    Object.keys(r.metrics || {}).slice(1).forEach(function (k) { if (nums.length < 3) nums.push({ v: fmtMetric(k, r.metrics[k]), k: prettyKey(k) + ' (' + (FACTOR_LABEL[r.factor] || r.factor) + ')' }); });
  });
  var OV = A && A.overall;
  if (OV && OV.parallelism != null && nums.length < 3) nums.push({ v: fmtNum(OV.parallelism), k: 'threads on a CPU on average, of ' + OV.cores + ' cores' });
  if (sampleTotal > 0) {
    var waits = STATES.map(function (st, i) { return { i: i, c: stateTotals[i] }; }).filter(function (x) { return x.i > 1; }).sort(function (a, b) { return b.c - a.c; });
    var cand = [{ v: fmtPct(stateTotals[0] / sampleTotal), k: 'of thread time on CPU' }];
    if (waits[0] && waits[0].c > 0) cand.push({ v: fmtPct(waits[0].c / sampleTotal), k: 'of thread time ' + STATE_LABEL[STATES[waits[0].i]] });
    if (stateTotals[1] > 0) cand.push({ v: fmtPct(stateTotals[1] / sampleTotal), k: 'of thread time runnable but starved of a CPU' });
    cand.push({ v: String(threads.length), k: 'threads in ' + processes.length + ' process' + (processes.length === 1 ? '' : 'es') });
    cand.forEach(function (x) { if (nums.length < 3) nums.push(x); });
  }
  if (E && E.summary && E.summary.length) {
    var best = E.summary.filter(function (x) { return !x.predicted && x.speedup > 0 && E.varied !== false; }).sort(function (a, b) { return b.speedup - a.speedup; })[0];
    if (best && nums.length < 3) nums.push({ v: fmtNum(best.speedup) + '×', k: 'best measured speedup (' + best.strategy + ', ' + best.workers + ' workers)' });
  }
  if (nums.length) sec.appendChild(h('div', { class: 'numbers' }, nums.slice(0, 3).map(function (n) {
    return h('div', { class: 'number' }, h('div', { class: 'v' }, n.v), h('div', { class: 'k' }, n.k));
  })));
  // Decision factors.
  sec.appendChild(h('h3', null, 'Decision factors'));
  var rows = [];
  FACTORS.concat(['cpu_starvation', 'scaling', 'measured', 'other']).forEach(function (f) {
    var items = [];
    var recs = [REC, A && A.recommendation].filter(function (x, i, all) { return x && all.indexOf(x) === i; });
    recs.forEach(function (rc) { (rc.reasons || []).forEach(function (r) { if (r.factor === f) items.push({ text: r.text, metrics: r.metrics || {} }); }); });
    if (A) (A.findings || []).forEach(function (x) { if (x.factor === f) items.push({ text: x.title, metrics: x.metrics || {}, sev: x.severity }); });
    if (!items.length && FACTORS.indexOf(f) < 0) return;
    var measured = [];
    items.forEach(function (it) { Object.keys(it.metrics).forEach(function (k) { var m = prettyKey(k) + ' ' + fmtMetric(k, it.metrics[k]); if (measured.indexOf(m) < 0) measured.push(m); }); });
    rows.push(h('tr', { 'data-factor': f }, h('td', { class: 'factor-name' }, FACTOR_LABEL[f] || f),
      h('td', null, items.length ? items.map(function (it) { return h('div', null, it.text, it.sev && it.sev !== 'info' ? h('span', { class: 'badge sev-' + it.sev }, it.sev) : null); }) : h('span', { class: 'na' }, A ? 'nothing found' : 'not measured')),
      h('td', { class: 'mono' }, measured.length ? measured.join(' · ') : '')));
  });
  sec.appendChild(h('table', null, h('thead', null, h('tr', null, h('th', null, 'Factor'), h('th', null, 'What was found'), h('th', null, 'Measured'))), h('tbody', null, rows)));
})();

/* ---------- flame graph ---------- */
var FG = null;
(function flame() {
  var sec = section('flame', 'Flame graph');
  if (!D.flame || sampleTotal === 0) { sec.appendChild(na('Not available: ' + (M ? 'the profile has no samples.' : 'this report has no recorded profile.'))); return; }
  var P = D.flame.parent, F = D.flame.frame, C = D.flame.cells, N = P.length;
  var FN = D.frames.name, FK = D.frames.kind, FW = D.frames.where;
  var kids = new Array(N);
  for (var i = 0; i < N; i++) kids[i] = [];
  for (i = 1; i < N; i++) kids[P[i]].push(i);
  var selfC = new Float64Array(N), total = new Float64Array(N), depth = new Int32Array(N);
  for (i = 1; i < N; i++) depth[i] = depth[P[i]] + 1;
  var stateSel = h('select', { id: 'fg-state' }), procSel = h('select', { id: 'fg-process' }), threadSel = h('select', { id: 'fg-thread' });
  stateSel.appendChild(h('option', { value: 'all' }, 'all samples'));
  stateSel.appendChild(h('option', { value: 'on_cpu' }, 'on-CPU only'));
  stateSel.appendChild(h('option', { value: 'off_cpu' }, 'off-CPU (all waits)'));
  STATES.forEach(function (st, i) { if (i > 0 && stateTotals[i] > 0) stateSel.appendChild(h('option', { value: st }, 'where threads are ' + STATE_LABEL[st])); });
  procSel.appendChild(h('option', { value: 'all' }, 'all processes'));
  processes.forEach(function (p) { procSel.appendChild(h('option', { value: String(p.pid) }, base(p.executable || p.command) + ' [' + p.pid + ']')); });
  function fillThreads() {
    var pid = procSel.value;
    threadSel.textContent = '';
    threadSel.appendChild(h('option', { value: 'all' }, 'all threads'));
    threads.forEach(function (t, ti) { if (pid === 'all' || String(t.pid) === pid) threadSel.appendChild(h('option', { value: String(ti) }, t.name + ' [' + t.tid + ']')); });
  }
  fillThreads();
  var search = h('input', { id: 'fg-search', type: 'search', placeholder: 'search frames (regex)', size: '26' });
  var reset = h('button', { id: 'fg-reset', type: 'button' }, 'Reset zoom');
  var info = h('span', { id: 'fg-info', class: 'muted' });
  sec.appendChild(h('div', { class: 'controls' }, h('label', null, 'Show'), stateSel, procSel, threadSel, search, reset, info));
  var svgEl = s('svg', { id: 'fg-svg', role: 'img' });
  sec.appendChild(svgEl);
  sec.appendChild(h('div', { class: 'legend' }, h('span', null, h('i', { style: 'background:hsl(28,80%,62%)' }), 'native frame'),
    h('span', null, h('i', { style: 'background:hsl(200,60%,62%)' }), 'Python frame'), h('span', null, h('i', { style: 'background:#e83e8c' }), 'search match'),
    h('span', null, 'Click a frame to zoom, click an upper frame to zoom out; hover for total and self time.')));
  var zoom = 0, query = null;
  function hash(str) { var x = 0; for (var j = 0; j < str.length; j++) x = (x * 31 + str.charCodeAt(j)) | 0; return Math.abs(x); }
  function color(f) {
    if (f < 0) return DARK ? '#4b5563' : '#cbd5e1';
    var k = FK[f], hv = hash(FN[f]) % 1000 / 1000, l = DARK ? 48 : 62;
    if (k === 1) return 'hsl(' + (185 + hv * 45).toFixed(0) + ',58%,' + l + '%)';
    if (k === 2) return DARK ? '#6b7280' : '#9ca3af';
    return 'hsl(' + (8 + hv * 42).toFixed(0) + ',78%,' + l + '%)';
  }
  function compute() {
    var st = stateSel.value, pid = procSel.value, tsel = threadSel.value;
    var stOk = STATES.map(function (name, code) { return st === 'all' || st === name || (st === 'off_cpu' && code > 1); });
    var thOk = threads.map(function (t, ti) { return (pid === 'all' || String(t.pid) === pid) && (tsel === 'all' || String(ti) === tsel); });
    selfC.fill(0); total.fill(0);
    for (var j = 0; j < C.length; j += 4) if (thOk[C[j + 1]] && stOk[C[j + 2]]) selfC[C[j]] += C[j + 3];
    for (j = 0; j < N; j++) total[j] = selfC[j];
    for (j = N - 1; j > 0; j--) total[P[j]] += total[j];
    for (j = 0; j < N; j++) kids[j].sort(function (a, b) { return total[b] - total[a]; });
    if (total[zoom] === 0) zoom = 0;
  }
  function label(n) { return n === 0 ? 'all' : FN[F[n]]; }
  function matches(n) { return query && n > 0 && query.test(FN[F[n]]); }
  function render() {
    var W = Math.max(300, svgEl.clientWidth || (sec.clientWidth - 36) || 1000), RH = 18;
    svgEl.textContent = '';
    var shown = 0, rows = 0, period = M.periodNs, root = total[zoom];
    var anc = [], a = zoom;
    while (a > 0) { a = P[a]; anc.unshift(a); }
    function draw(n, x, w, row, cls) {
      var f = F[n];
      var g = s('g', { class: 'fg-node' + (cls ? ' ' + cls : '') + (matches(n) ? ' match' : ''), transform: 'translate(' + x.toFixed(2) + ',' + row * RH + ')', 'data-node': n, 'data-row': row, 'data-name': label(n) });
      g.appendChild(s('rect', { width: Math.max(0.5, w - 0.5).toFixed(2), height: RH - 1, rx: 2, fill: color(n === 0 ? -1 : f) }));
      var chars = Math.floor((w - 6) / 6.3);
      if (chars >= 3) {
        var t = n === 0 ? 'all (' + fmtNs(total[0] * period) + ')' : FN[f];
        g.appendChild(s('text', { x: 4, y: 13 }, t.length > chars ? t.slice(0, chars - 1) + '…' : t));
      }
      g.addEventListener('click', function () { zoom = n; render(); });
      g.addEventListener('mousemove', function (ev) {
        var where = n > 0 && FW[f] ? '\n' + FW[f] : '';
        var kind = n === 0 ? '' : FK[f] === 1 ? ' [Python]' : FK[f] === 2 ? '' : ' [native]';
        showTip(ev, label(n) + kind + where + '\ntotal: ' + fmtNs(total[n] * period) + ' · ' + total[n] + ' samples · ' + fmtPct(total[n] / (total[0] || 1)) +
          '\nself: ' + fmtNs(selfC[n] * period) + ' · ' + selfC[n] + ' samples');
      });
      g.addEventListener('mouseleave', hideTip);
      svgEl.appendChild(g);
      shown++;
      rows = Math.max(rows, row + 1);
    }
    anc.forEach(function (n, r) { draw(n, 0, W, r, 'anc'); });
    var base0 = anc.length;
    function layout(n, x, row) {
      var w = root > 0 ? total[n] / root * W : 0;
      if (w < 0.6) return;
      draw(n, x, w, row, n === zoom && zoom !== 0 ? 'zoomed' : '');
      var cx = x;
      var ks = kids[n];
      for (var j = 0; j < ks.length; j++) { var c = ks[j]; if (total[c] <= 0) break; layout(c, cx, row + 1); cx += total[c] / root * W; }
    }
    layout(zoom, 0, base0);
    svgEl.setAttribute('viewBox', '0 0 ' + W + ' ' + Math.max(1, rows) * RH);
    svgEl.setAttribute('width', W);
    svgEl.setAttribute('height', Math.max(1, rows) * RH);
    var msg = fmtNs(total[0] * period) + ' (' + total[0] + ' samples) shown';
    if (zoom) msg += ' · zoomed into ' + label(zoom) + ' (' + fmtPct(total[zoom] / (total[0] || 1)) + ')';
    if (query) {
      var inM = new Uint8Array(N), matched = 0;
      for (var j = 1; j < N; j++) { inM[j] = inM[P[j]] || (query.test(FN[F[j]]) ? 1 : 0); if (inM[j]) matched += selfC[j]; }
      msg += ' · search matches ' + fmtPct(matched / (total[0] || 1));
    }
    info.textContent = msg;
    svgEl.setAttribute('data-shown', shown);
  }
  function refresh() { compute(); render(); }
  stateSel.addEventListener('change', refresh);
  procSel.addEventListener('change', function () { fillThreads(); refresh(); });
  threadSel.addEventListener('change', refresh);
  reset.addEventListener('click', function () { zoom = 0; render(); });
  search.addEventListener('input', function () {
    try { query = search.value ? new RegExp(search.value, 'i') : null; } catch (e) { query = null; }
    render();
  });
  window.addEventListener('resize', function () { render(); });
  refresh();
  FG = { render: render, refresh: refresh, total: total, zoomTo: function (n) { zoom = n; render(); } };
})();

/* ---------- timeline ---------- */
var TL = null;
(function timeline() {
  var sec = section('timeline', 'Timeline');
  if (!D.timeline || !threads.length) { sec.appendChild(na('Not available: ' + (M ? 'the profile has no threads.' : 'this report has no recorded profile.'))); return; }
  var lanes = D.timeline.lanes, endUs = Math.max(1, D.timeline.endUs);
  var v0 = 0, v1 = endUs;
  var range = h('span', { id: 'tl-range', class: 'muted' });
  var zin = h('button', { type: 'button', id: 'tl-zoom-in' }, 'Zoom in'), zout = h('button', { type: 'button', id: 'tl-zoom-out' }, 'Zoom out'), zreset = h('button', { type: 'button', id: 'tl-reset' }, 'Reset');
  sec.appendChild(h('div', { class: 'controls' }, zin, zout, zreset, range, h('span', { class: 'muted' }, 'Drag across the lanes to zoom into a span; double-click to reset.')));
  var labels = h('div', { id: 'tl-labels' }), cwrap = h('div', { id: 'tl-canvas-wrap' }), canvas = h('canvas', { id: 'tl-canvas' }), sel = h('div', { id: 'tl-sel' });
  cwrap.appendChild(canvas); cwrap.appendChild(sel);
  sec.appendChild(h('div', { id: 'tl-wrap' }, labels, cwrap));
  var legend = h('div', { class: 'legend' });
  STATES.forEach(function (st, i) { if (stateTotals[i] > 0) legend.appendChild(h('span', null, h('i', { style: 'background:' + STATE_COLOR[i] }), STATE_LABEL[st])); });
  legend.appendChild(h('span', null, h('i', { style: 'background:' + cssVar('--gil') + ';height:4px' }), 'holds the GIL (bar on top of the lane)'));
  sec.appendChild(legend);
  // Layout: one group per process, one lane per thread.
  var rowsY = [], y = 22, LH = 16, GH = 20;
  labels.appendChild(h('div', { class: 'tl-axis' }));
  var byPid = {};
  lanes.forEach(function (l) { var t = threads[l.thread]; (byPid[t.pid] = byPid[t.pid] || []).push(l); });
  var pids = processes.map(function (p) { return p.pid; });
  Object.keys(byPid).forEach(function (p) { if (pids.indexOf(+p) < 0) pids.push(+p); });
  var order = [];
  pids.forEach(function (pid) {
    var ls = byPid[pid]; if (!ls) return;
    var p = processes.filter(function (x) { return x.pid === pid; })[0];
    labels.appendChild(h('div', { class: 'tl-group', 'data-pid': pid, title: p ? p.command : '' }, (p ? base(p.executable || p.command) : 'process') + ' [' + pid + ']'));
    y += GH;
    ls.forEach(function (l) {
      var t = threads[l.thread];
      labels.appendChild(h('div', { class: 'tl-label', 'data-tid': t.tid, title: t.name }, t.name + ' [' + t.tid + ']'));
      order.push({ lane: l, y: y, t: t });
      y += LH;
    });
  });
  var H = y + 4;
  function draw() {
    var W = Math.max(200, cwrap.clientWidth || 800), dpr = window.devicePixelRatio || 1;
    canvas.width = W * dpr; canvas.height = H * dpr; canvas.style.width = W + 'px'; canvas.style.height = H + 'px';
    var ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    var span = v1 - v0, sx = W / span;
    // Axis.
    ctx.fillStyle = cssVar('--muted'); ctx.strokeStyle = cssVar('--line'); ctx.font = '11px system-ui, sans-serif';
    var step = Math.pow(10, Math.floor(Math.log10(span / 6)));
    if (span / step > 12) step *= 5; else if (span / step > 6) step *= 2;
    for (var tk = Math.ceil(v0 / step) * step; tk <= v1; tk += step) {
      var x = (tk - v0) * sx;
      ctx.fillRect(x, 14, 1, 6);
      ctx.fillText(fmtNs(tk * 1000), Math.min(x + 2, W - 50), 11);
      ctx.fillStyle = cssVar('--line'); ctx.fillRect(x, 22, 1, H - 22); ctx.fillStyle = cssVar('--muted');
    }
    var gil = cssVar('--gil');
    order.forEach(function (o) {
      var r = o.lane.runs;
      for (var j = 0; j < r.length; j += 4) {
        if (r[j + 1] < v0 || r[j] > v1) continue;
        var x0 = (r[j] - v0) * sx, x1 = (r[j + 1] - v0) * sx;
        ctx.fillStyle = STATE_COLOR[r[j + 2]];
        ctx.fillRect(x0, o.y + 1, Math.max(1, x1 - x0), LH - 2);
        if (r[j + 3] === 1) { ctx.fillStyle = gil; ctx.fillRect(x0, o.y + 1, Math.max(1, x1 - x0), 3); }
      }
    });
    range.textContent = fmtNs(v0 * 1000) + ' – ' + fmtNs(v1 * 1000) + ' of ' + fmtNs(endUs * 1000);
    canvas.setAttribute('data-view', v0 + ',' + v1);
  }
  function setView(a, b) {
    var minSpan = Math.max(10, (M.periodNs / 1000) * 4);
    if (b - a < minSpan) { var c = (a + b) / 2; a = c - minSpan / 2; b = c + minSpan / 2; }
    v0 = Math.max(0, a); v1 = Math.min(endUs, b); if (v1 <= v0) { v0 = 0; v1 = endUs; }
    draw();
  }
  zin.addEventListener('click', function () { var c = (v0 + v1) / 2, w = (v1 - v0) / 4; setView(c - w, c + w); });
  zout.addEventListener('click', function () { var c = (v0 + v1) / 2, w = (v1 - v0); setView(c - w, c + w); });
  zreset.addEventListener('click', function () { setView(0, endUs); });
  canvas.addEventListener('dblclick', function () { setView(0, endUs); });
  var dragX = null;
  function xOf(ev) { return ev.clientX - canvas.getBoundingClientRect().left; }
  canvas.addEventListener('mousedown', function (ev) { dragX = xOf(ev); sel.style.display = 'none'; });
  window.addEventListener('mouseup', function (ev) {
    if (dragX == null) return;
    var x = xOf(ev), a = Math.min(dragX, x), b = Math.max(dragX, x), W = canvas.clientWidth;
    dragX = null; sel.style.display = 'none';
    if (b - a > 4) setView(v0 + a / W * (v1 - v0), v0 + b / W * (v1 - v0));
  });
  canvas.addEventListener('mousemove', function (ev) {
    var x = xOf(ev), W = canvas.clientWidth;
    if (dragX != null) { sel.style.display = 'block'; sel.style.left = Math.min(dragX, x) + 'px'; sel.style.width = Math.abs(x - dragX) + 'px'; }
    var yy = ev.clientY - canvas.getBoundingClientRect().top, o = null;
    for (var j = 0; j < order.length; j++) if (yy >= order[j].y && yy < order[j].y + LH) o = order[j];
    if (!o) { hideTip(); return; }
    var tUs = v0 + x / W * (v1 - v0), r = o.lane.runs, hit = -1;
    var lo = 0, hi = r.length / 4 - 1;
    while (lo <= hi) { var mid = (lo + hi) >> 1; if (r[mid * 4 + 1] <= tUs) lo = mid + 1; else if (r[mid * 4] > tUs) hi = mid - 1; else { hit = mid * 4; break; } }
    if (hit < 0) { showTip(ev, o.t.name + ' [' + o.t.tid + ']\nnot sampled at ' + fmtNs(tUs * 1000)); return; }
    showTip(ev, o.t.name + ' [' + o.t.tid + ']\n' + STATE_LABEL[STATES[r[hit + 2]]] + (r[hit + 3] === 1 ? ' · holds the GIL' : '') +
      '\n' + fmtNs(r[hit] * 1000) + ' – ' + fmtNs(r[hit + 1] * 1000) + (o.lane.resampled ? '\n(resampled: the state this thread spent most of the interval in)' : ''));
  });
  canvas.addEventListener('mouseleave', hideTip);
  window.addEventListener('resize', draw);
  draw();
  TL = { setView: setView, view: function () { return [v0, v1]; }, lanes: order.length };
})();

/* ---------- threads ---------- */
(function threadTable() {
  var sec = section('threads', 'Threads');
  if (!threads.length) { sec.appendChild(na('Not available: no recorded threads.')); return; }
  var period = M.periodNs;
  // The kernel's CPU share next to the sampled one, where the analysis found them apart
  // (observer bias: docs/analysis.md).
  var measured = {};
  ((A && A.threads) || []).forEach(function (a) { if (a.measured && a.measured.biased) measured[a.pid + '/' + a.tid] = a.measured; });
  var anyBiased = false;
  var rows = threads.map(function (t) {
    var n = t.counts.reduce(function (a, b) { return a + b; }, 0);
    var top = t.counts.map(function (c, i) { return { c: c, i: i }; }).sort(function (a, b) { return b.c - a.c; })[0];
    var m = measured[t.pid + '/' + t.tid];
    if (m) anyBiased = true;
    return h('tr', null, h('td', null, t.name, m ? h('span', { class: 'badge', title: 'observer bias: the samples disagreed with the kernel\'s CPU accounting' }, 'corrected') : null),
      h('td', { class: 'num' }, t.tid), h('td', { class: 'num' }, t.pid), h('td', { class: 'num' }, fmtNs(n * period)),
      h('td', { class: 'num' }, n ? fmtPct(t.counts[0] / n) : '–', m ? h('div', { class: 'muted' }, 'kernel ' + fmtPct(m.on_cpu)) : null),
      h('td', null, n && top.c ? STATE_LABEL[STATES[top.i]] + ' ' + fmtPct(top.c / n) : '–'), h('td', { style: 'width:34%' }, stateBar(t.counts)));
  });
  if (anyBiased) sec.appendChild(h('p', { class: 'muted' }, 'Threads marked corrected: their samples disagreed with the kernel\'s CPU accounting beyond sampling error (observer bias). ' +
    '"On CPU" is the sampled share, with the kernel\'s below it; the analysis uses the kernel\'s figures for running time and the samples for stacks and waits.'));
  sec.appendChild(h('table', null, h('thead', null, h('tr', null, ['Thread', 'TID', 'PID', 'Sampled', 'On CPU', 'Mostly', 'States'].map(function (x, i) { return h('th', { class: i > 0 && i < 5 ? 'num' : null }, x); }))), h('tbody', null, rows)));
  // The machine's load next to the program's (docs/analysis.md, "Other programs on the machine").
  var MC = A && A.machine;
  if (MC) sec.appendChild(h('p', { id: 'machine-load', class: MC.external ? null : 'muted' },
    'Machine: ' + fmtNum(MC.busy_cores) + ' of ' + MC.cores + ' cores busy on average — this program ' + fmtNum(MC.program_cores) +
    ', forkcast ' + fmtNum(MC.forkcast_cores) + ', other programs ' + fmtNum(MC.other_cores) + (MC.steal_cores >= 0.05 ? ' (steal ' + fmtNum(MC.steal_cores) + ')' : '') +
    (MC.external ? '; they kept the working threads from a CPU ' + fmtPct(MC.external_runnable_share) + ' of their time.' : '.')));
})();

/* ---------- locks and I/O ---------- */
(function locks() {
  var sec = section('locks', 'Locks');
  var L = A && A.locks;
  if (!L || !L.length) { sec.appendChild(na(A ? 'No lock contention was found.' : 'Not available: this report was written without an analysis.')); return; }
  sec.appendChild(h('table', null, h('thead', null, h('tr', null, h('th', null, 'Lock'), h('th', null, 'Kind'), h('th', { class: 'num' }, 'Wait'), h('th', { class: 'num' }, 'Waiters'), h('th', null, 'Holder'), h('th', null, 'Where they wait'))),
    h('tbody', null, L.map(function (l) {
      var ev = pk(l, 'holder_evidence', 'holderEvidence');
      return h('tr', null, h('td', { class: 'mono' }, l.lock, l.site ? h('div', { class: 'muted' }, l.site) : null), h('td', null, l.kind, l.idle ? h('span', { class: 'badge' }, 'idle wait') : null),
        h('td', { class: 'num' }, fmtNum(pk(l, 'wait_seconds', 'waitSeconds')) + ' s', l.wait_share != null ? h('div', { class: 'muted' }, fmtPct(l.wait_share)) : null), h('td', { class: 'num' }, l.waiters),
        h('td', null, l.holder || '–', ev ? h('div', { class: 'muted' }, ev) : null),
        h('td', null, (pk(l, 'top_stacks', 'topStacks') || []).map(function (st, i) { return h('details', { open: i === 0 ? '' : null }, h('summary', null, 'stack ' + (i + 1) + ' · ' + (st[st.length - 1] || '')), stackBlock(st)); })));
    }))));
})();
(function io() {
  var sec = section('io', 'I/O waits');
  var I = A && A.io;
  if (!I || !I.length) { sec.appendChild(na(A ? 'No I/O waits were found.' : 'Not available: this report was written without an analysis.')); return; }
  sec.appendChild(h('table', null, h('thead', null, h('tr', null, h('th', null, 'Kind'), h('th', null, 'Call site'), h('th', null, 'Targets'), h('th', { class: 'num' }, 'Wait'), h('th', { class: 'num' }, 'Threads'))),
    h('tbody', null, I.map(function (g) {
      var st = g.stack && g.stack.length ? g.stack : String(pk(g, 'call_site', 'callSite') || '').split(';');
      return h('tr', null, h('td', null, g.kind, (g.syscalls || []).length ? h('div', { class: 'muted mono' }, g.syscalls.join(', ')) : null), h('td', null, h('div', { class: 'stack mono' }, st.join('\n'))), h('td', { class: 'mono' }, (g.targets || []).join('\n')),
        h('td', { class: 'num' }, fmtNum(pk(g, 'wait_seconds', 'waitSeconds')) + ' s', g.wait_share != null ? h('div', { class: 'muted' }, fmtPct(g.wait_share)) : null), h('td', { class: 'num' }, g.threads));
    }))));
})();

function kvTable(o) {
  return h('table', { class: 'kv' }, h('tbody', null, Object.keys(o).filter(function (k) { return typeof o[k] === 'number' || typeof o[k] === 'string' || typeof o[k] === 'boolean'; }).map(function (k) {
    return h('tr', null, h('td', null, prettyKey(k)), h('td', { class: 'num mono' }, typeof o[k] === 'number' ? fmtMetric(k, o[k]) : String(o[k])));
  })));
}
(function gil() {
  var G = A && A.gil;
  if (!G || !G.length) return;
  var sec = section('gil', 'GIL');
  sec.appendChild(h('table', null, h('thead', null, h('tr', null, ['Process', 'Python threads', 'CPU', 'GIL held', 'GIL wait', 'Parallelism', 'Evidence'].map(function (x, i) { return h('th', { class: i && i < 6 ? 'num' : null }, x); }))),
    h('tbody', null, G.map(function (g) {
      return h('tr', null, h('td', null, String(g.pid)), h('td', { class: 'num' }, g.python_threads), h('td', { class: 'num' }, fmtNum(g.cpu_seconds) + ' s'), h('td', { class: 'num' }, fmtPct(g.held_share)),
        h('td', { class: 'num' }, fmtNum(g.wait_seconds) + ' s · ' + fmtPct(g.wait_share)), h('td', { class: 'num' }, fmtNum(g.parallelism)), h('td', null, g.held_evidence || ''));
    }))));
  G.forEach(function (g) {
    if ((g.held_stack || []).length) sec.appendChild(h('details', null, h('summary', null, 'pid ' + g.pid + ': where the GIL is held'), stackBlock(g.held_stack)));
    if ((g.released_stack || []).length) sec.appendChild(h('details', null, h('summary', null, 'pid ' + g.pid + ': where it is released'), stackBlock(g.released_stack)));
  });
})();
(function mp() {
  var P = A && A.multiprocessing;
  if (!P) return;
  var sec = section('multiprocessing', 'Costs of using processes');
  sec.appendChild(kvTable(P));
  (P.top_stacks || []).slice(0, 3).forEach(function (st) { sec.appendChild(h('details', null, h('summary', null, st[st.length - 1] || 'stack'), stackBlock(st))); });
})();

/* ---------- findings ---------- */
(function findings() {
  var F = A && A.findings;
  if (!F || !F.length) return;
  var sec = section('findings', 'Findings');
  F.forEach(function (f) {
    sec.appendChild(h('div', { class: 'finding' }, h('h3', null, f.title, h('span', { class: 'badge sev-' + f.severity }, f.severity), h('span', { class: 'badge' }, FACTOR_LABEL[f.factor] || f.factor)),
      h('p', null, f.detail), Object.keys(f.metrics || {}).length ? h('p', { class: 'mono muted' }, Object.keys(f.metrics).map(function (k) { return prettyKey(k) + ' ' + fmtMetric(k, f.metrics[k]); }).join(' · ')) : null,
      (f.stacks || []).slice(0, 3).map(function (st) { return h('details', null, h('summary', null, st[st.length - 1] || 'stack'), stackBlock(st)); })));
  });
})();

/* ---------- process tree ---------- */
(function tree() {
  var sec = section('processes', 'Process tree');
  if (!processes.length) { sec.appendChild(na('Not available: no recorded processes.')); return; }
  var byPid = {}, kidsOf = {};
  processes.forEach(function (p) { byPid[p.pid] = p; });
  var roots = [];
  processes.forEach(function (p) { if (byPid[p.ppid] && p.ppid !== p.pid) (kidsOf[p.ppid] = kidsOf[p.ppid] || []).push(p); else roots.push(p); });
  function item(p) {
    var nt = threads.filter(function (t) { return t.pid === p.pid; }).length;
    var li = h('li', { 'data-pid': p.pid }, h('span', { class: 'mono' }, '[' + p.pid + '] '), h('strong', null, base(p.executable || p.command)), ' ', h('span', { class: 'muted mono' }, p.command),
      h('span', { class: 'badge' }, p.origin), p.runtime ? h('span', { class: 'badge' }, p.runtime) : null, h('span', { class: 'badge' }, nt + ' thread' + (nt === 1 ? '' : 's')),
      p.exit ? h('span', { class: 'badge' }, p.exit) : null);
    var ks = kidsOf[p.pid];
    if (ks) li.appendChild(h('ul', null, ks.map(item)));
    return li;
  }
  sec.appendChild(h('ul', { class: 'tree' }, roots.map(item)));
})();

/* ---------- experiment ---------- */
(function experiment() {
  if (!E) return;
  var sec = section('experiment', 'Experiment');
  var S = (E.summary || []).slice();
  if (!S.length) { sec.appendChild(na('Not available: the experiment has no summarised configurations.')); return; }
  var strategies = [];
  S.forEach(function (x) { if (strategies.indexOf(x.strategy) < 0) strategies.push(x.strategy); });
  var extra = ['#9333ea', '#0891b2', '#be123c', '#4d7c0f'];
  function scol(st, i) { var v = cssVar('--s-' + st); return v !== '#888' ? v : extra[i % extra.length]; }
  var fits = Array.isArray(E.scaling) ? E.scaling : [];
  // Fits are relative to each strategy's own 1-worker run; the chart is relative to serial.
  function oneWorker(st) { var x = S.filter(function (c) { return c.strategy === st && c.workers === 1; })[0]; return x && x.speedup > 0 ? x.speedup : 1; }
  var charts = h('div', { class: 'charts' });
  sec.appendChild(charts);
  // Speedup vs workers.
  (function speedup() {
    var W = 560, H = 320, ml = 46, mr = 14, mt = 14, mb = 40;
    var pts = [];
    S.forEach(function (x) {
      var baseline = x.speedup * x.median_wall_s;
      var lo = x.ci_high_s > 0 ? baseline / x.ci_high_s : x.speedup, hi = x.ci_low_s > 0 ? baseline / x.ci_low_s : x.speedup;
      pts.push({ st: x.strategy, w: x.workers, y: x.speedup, lo: Math.min(lo, x.speedup), hi: Math.max(hi, x.speedup), pred: !!x.predicted });
    });
    fits.forEach(function (f) {
      var k = oneWorker(f.strategy);
      (f.predictions || []).forEach(function (p) { pts.push({ st: f.strategy, w: p.cores, y: p.speedup * k, lo: (p.low != null ? p.low : p.speedup) * k, hi: (p.high != null ? p.high : p.speedup) * k, pred: true }); });
    });
    var maxW = Math.max.apply(null, pts.map(function (p) { return p.w; }).concat([2]));
    var maxY = Math.max.apply(null, pts.map(function (p) { return p.hi; }).concat([1])) * 1.1;
    var lw = Math.log(maxW);
    function X(w) { return ml + Math.log(Math.max(1, w)) / lw * (W - ml - mr); }
    function Y(v) { return H - mb - v / maxY * (H - mt - mb); }
    var svg = s('svg', { id: 'exp-speedup', viewBox: '0 0 ' + W + ' ' + H });
    var axis = s('g', { class: 'axis' });
    for (var k = 0; k <= 4; k++) {
      var v = maxY * k / 4;
      axis.appendChild(s('line', { x1: ml, x2: W - mr, y1: Y(v), y2: Y(v) }));
      axis.appendChild(s('text', { x: ml - 6, y: Y(v) + 4, 'text-anchor': 'end' }, v.toFixed(1) + '×'));
    }
    var ws = []; pts.forEach(function (p) { if (ws.indexOf(p.w) < 0) ws.push(p.w); });
    ws.sort(function (a, b) { return a - b; }).forEach(function (w) { axis.appendChild(s('text', { x: X(w), y: H - mb + 16, 'text-anchor': 'middle' }, String(w))); });
    axis.appendChild(s('text', { x: (W + ml) / 2, y: H - 6, 'text-anchor': 'middle' }, 'workers (log scale)'));
    var ideal = [];
    for (var iw = 1; iw <= maxW; iw *= 1.25) if (iw <= maxY) ideal.push(X(iw).toFixed(1) + ',' + Y(iw).toFixed(1));
    axis.appendChild(s('polyline', { points: ideal.join(' '), fill: 'none', stroke: cssVar('--muted'), 'stroke-dasharray': '3 4', 'stroke-width': 1, class: 'ideal' }));
    svg.appendChild(axis);
    strategies.forEach(function (st, i) {
      var col = scol(st, i);
      var g = s('g', { class: 'series', 'data-strategy': st });
      var mine = pts.filter(function (p) { return p.st === st; }).sort(function (a, b) { return a.w - b.w; });
      var fit = fits.filter(function (f) { return f.strategy === st; })[0];
      var curve = null;
      if (fit && isFinite(fit.sigma)) {
        var k = oneWorker(st), sg = fit.sigma, kp = fit.kappa || 0;
        curve = [];
        for (var n = 1; n <= maxW * 1.0001; n *= 1.08) curve.push([n, k * n / (1 + sg * (n - 1) + kp * n * (n - 1))]);
        var d = curve.map(function (c, j) { return (j ? 'L' : 'M') + X(c[0]).toFixed(1) + ',' + Y(c[1]).toFixed(1); }).join('');
        var path = s('path', { d: d, fill: 'none', stroke: col, 'stroke-width': 1.5, 'stroke-dasharray': '6 4', class: 'fit' });
        path.addEventListener('mousemove', function (ev) { showTip(ev, st + ': ' + (fit.model || 'model') + ' fit, σ = ' + fmtNum(sg) + ', κ = ' + fmtNum(kp) + (fit.rms_error != null ? ', rms error ' + fmtNum(fit.rms_error) : '') + (fit.peak_workers ? '\npeaks at ' + fmtNum(fit.peak_workers) + ' workers' : '')); });
        path.addEventListener('mouseleave', hideTip);
        g.appendChild(path);
      }
      var meas = mine.filter(function (p) { return !p.pred; });
      if (meas.length > 1 && !(curve && curve.length)) g.appendChild(s('polyline', { points: meas.map(function (p) { return X(p.w).toFixed(1) + ',' + Y(p.y).toFixed(1); }).join(' '), fill: 'none', stroke: col, 'stroke-width': 2 }));
      mine.forEach(function (p) {
        g.appendChild(s('line', { x1: X(p.w), x2: X(p.w), y1: Y(p.lo), y2: Y(p.hi), stroke: col, 'stroke-width': 1.5 }));
        g.appendChild(s('line', { x1: X(p.w) - 4, x2: X(p.w) + 4, y1: Y(p.lo), y2: Y(p.lo), stroke: col }));
        g.appendChild(s('line', { x1: X(p.w) - 4, x2: X(p.w) + 4, y1: Y(p.hi), y2: Y(p.hi), stroke: col }));
        var c = s('circle', { cx: X(p.w), cy: Y(p.y), r: 4.5, fill: p.pred ? 'none' : col, stroke: col, 'stroke-width': 2, class: p.pred ? 'predicted' : 'measured', 'stroke-dasharray': p.pred ? '2 2' : null });
        c.addEventListener('mousemove', function (ev) { showTip(ev, st + ' × ' + p.w + (p.pred ? ' (predicted)' : '') + '\nspeedup ' + fmtNum(p.y) + '× [' + fmtNum(p.lo) + '–' + fmtNum(p.hi) + ']'); });
        c.addEventListener('mouseleave', hideTip);
        g.appendChild(c);
      });
      svg.appendChild(g);
    });
    var leg = h('div', { class: 'legend' }, strategies.map(function (st, i) { return h('span', null, h('i', { style: 'background:' + scol(st, i) }), st); }),
      h('span', null, '● measured (bars: confidence interval) · ○ predicted · dashed: fitted curve / ideal'));
    charts.appendChild(h('div', { class: 'chart' }, h('h3', null, 'Speedup vs workers'), svg, leg));
  })();
  // Wait breakdown per strategy (stacked bars), when the experiment recorded profiles.
  (function waits() {
    var box = h('div', { class: 'chart', id: 'exp-waits' }, h('h3', null, 'Where the time goes, per configuration'));
    charts.appendChild(box);
    var rows = S.filter(function (x) { return x.wait_breakdown || x.states; });
    if (!rows.length) { box.appendChild(na('Not available: this experiment recorded no wait profiles.')); return; }
    var W = 560, RH = 22, ml = 120, H = rows.length * RH + 10;
    var svg = s('svg', { viewBox: '0 0 ' + W + ' ' + H });
    rows.forEach(function (x, r) {
      var st = x.wait_breakdown || x.states, tot = 0;
      STATES.forEach(function (name) { tot += +st[name] || 0; });
      svg.appendChild(s('text', { x: ml - 6, y: r * RH + 16, 'text-anchor': 'end' }, x.strategy + ' × ' + x.workers));
      var cx = ml;
      STATES.forEach(function (name, i) {
        var v = (+st[name] || 0) / (tot || 1), w = v * (W - ml - 10);
        if (w <= 0) return;
        var rect = s('rect', { x: cx, y: r * RH + 4, width: w, height: RH - 8, fill: STATE_COLOR[i], 'data-state': name });
        rect.addEventListener('mousemove', function (ev) { showTip(ev, x.strategy + ' × ' + x.workers + '\n' + STATE_LABEL[name] + ' ' + fmtPct(v)); });
        rect.addEventListener('mouseleave', hideTip);
        svg.appendChild(rect);
        cx += w;
      });
    });
    box.appendChild(svg);
  })();
  if (E.interrupted) sec.insertBefore(h('p', { class: 'fixfirst' }, 'The experiment was interrupted before every run was done.'), charts);
  (E.notes || []).forEach(function (n) { sec.insertBefore(h('p', { class: 'muted' }, n), charts); });
  // Wall, CPU, memory per configuration.
  var runs = E.runs || [];
  sec.appendChild(h('h3', null, 'Measured configurations'));
  sec.appendChild(h('table', { id: 'exp-table' }, h('thead', null, h('tr', null, ['Strategy', 'Workers', 'Wall (median)', '95% CI', 'Speedup', 'CPU', 'Peak memory', 'Runs'].map(function (x, i) { return h('th', { class: i ? 'num' : null }, x); }))),
    h('tbody', null, S.map(function (x) {
      var all = runs.filter(function (r) { return r.strategy === x.strategy && r.workers === x.workers; });
      var mine = all.filter(function (r) { return !r.warmup && !r.recorded; }), extra = all.length - mine.length;
      var failed = mine.filter(function (r) { return r.failed; }).length;
      return h('tr', { 'data-strategy': x.strategy }, h('td', null, x.strategy + (x.predicted ? ' (predicted)' : '')), h('td', { class: 'num' }, x.workers), h('td', { class: 'num' }, fmtNum(x.median_wall_s) + ' s'),
        h('td', { class: 'num' }, fmtNum(x.ci_low_s) + '–' + fmtNum(x.ci_high_s) + ' s'), h('td', { class: 'num' }, fmtNum(x.speedup) + '×'), h('td', { class: 'num' }, fmtNum(x.cpu_s) + ' s'),
        h('td', { class: 'num' }, fmtBytes(x.peak_rss_bytes)), h('td', { class: 'num' }, mine.length + (failed ? ' (' + failed + ' failed)' : '') + (extra ? ' +' + extra + ' warm-up/recorded' : ''),
          x.excluded_reason ? h('div', { class: 'muted' }, 'excluded: ' + x.excluded_reason) : null));
    }))));
})();

/* ---------- footer ---------- */
(function footer() {
  var f = document.getElementById('ftr');
  if (M) {
    var st = M.stats;
    var parts = ['forkcast ' + M.toolVersion, M.mode + ' mode', 'ended: ' + M.endReason + (M.rootExit ? ' (' + M.rootExit + ')' : ''), 'host ' + M.hostname + ', ' + M.kernel];
    if (st.samplesExpected) parts.push('samples taken ' + fmtPct(st.samplesTaken / st.samplesExpected) + ' of expected');
    if (st.samplesTaken) parts.push('stacks complete ' + fmtPct(st.stacksComplete / st.samplesTaken));
    f.appendChild(h('p', null, parts.join(' · ')));
    M.notes.forEach(function (n) { f.appendChild(h('p', null, n)); });
  }
  f.appendChild(h('p', null, 'Self-contained report: no network access; data embedded below as JSON.'));
})();

/* ---------- for the browser tests ---------- */
// Read-only handles for the self-test the browser tests inject (docs/formats/html-report.md);
// the self-test itself is not part of the report.
window.__forkcastPage = { flame: FG, timeline: TL, experiment: E };
window.__forkcastReadyMs = Math.round(performance.now());
document.documentElement.setAttribute('data-ready', '1');
})();
