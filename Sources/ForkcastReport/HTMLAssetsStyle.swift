// The HTML report's stylesheet, inlined into every report (no external fonts or files).
enum HTMLAssets {
    static let css = ##"""
:root {
  --bg: #ffffff; --fg: #1d2330; --muted: #5d6677; --card: #f6f7f9; --line: #dfe3ea; --accent: #2f6fdf;
  --good: #1f9d55; --warn: #c27c0e; --bad: #c9372c; --tip-bg: #1d2330; --tip-fg: #f5f6f8;
  --st-on_cpu: #2e9e5b; --st-runnable: #a7c94a; --st-gil_wait: #8e5ad6; --st-lock_wait: #d6453d;
  --st-io_wait: #2f86d6; --st-sleep: #b9c0cc; --st-child_wait: #7b8797; --st-other: #e0a030; --gil: #111827;
  --s-serial: #6b7280; --s-threads: #2f6fdf; --s-processes: #e07b24; --s-hybrid: #1f9d55;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14171d; --fg: #e4e7ec; --muted: #9aa3b2; --card: #1d222b; --line: #2d3440; --accent: #6ea1ff;
    --good: #4cc784; --warn: #e0a93f; --bad: #ff6b5f; --tip-bg: #f0f2f5; --tip-fg: #14171d;
    --st-on_cpu: #3fbf73; --st-runnable: #b8d65a; --st-gil_wait: #a77ef0; --st-lock_wait: #f0625a;
    --st-io_wait: #4fa3f0; --st-sleep: #5b6473; --st-child_wait: #8893a3; --st-other: #f0b440; --gil: #f8fafc;
    --s-serial: #9ca3af; --s-threads: #6ea1ff; --s-processes: #ff9a4d; --s-hybrid: #4cc784;
  }
}
* { box-sizing: border-box; }
html { background: var(--bg); color: var(--fg); }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 20px 24px 60px; }
h1 { font-size: 20px; margin: 0 0 2px; }
h2 { font-size: 16px; margin: 0 0 10px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12px; }
.muted { color: var(--muted); }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; margin: 16px 0; }
header.top { display: flex; justify-content: space-between; align-items: flex-end; gap: 16px; flex-wrap: wrap; }
header .cmd { word-break: break-all; }
.headline-sentence { font-size: 22px; font-weight: 650; margin: 0 0 4px; }
.fixfirst { color: var(--bad); font-weight: 600; margin: 4px 0 8px; }
.confidence { display: inline-block; padding: 1px 8px; border-radius: 10px; border: 1px solid var(--line); font-size: 12px; margin-left: 6px; vertical-align: middle; }
.numbers { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; margin: 14px 0 6px; }
.number { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.number .v { font-size: 24px; font-weight: 700; }
.number .k { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.controls { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 8px; }
.controls label { color: var(--muted); font-size: 12px; }
select, input, button { font: inherit; font-size: 13px; color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 3px 8px; }
button { cursor: pointer; }
button:hover { border-color: var(--accent); }
#fg-svg, #tl-wrap { width: 100%; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; }
#fg-svg { display: block; user-select: none; }
.fg-node { cursor: pointer; }
.fg-node rect { stroke: var(--bg); stroke-width: 0.5; }
.fg-node text { font-size: 11px; fill: #1b1f27; pointer-events: none; }
.fg-node.anc rect { opacity: 0.55; }
.fg-node.match rect { fill: #e83e8c !important; }
.fg-node:hover rect { stroke: var(--fg); stroke-width: 1; }
.legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: 12px; color: var(--muted); margin-top: 6px; }
.legend i { display: inline-block; width: 11px; height: 11px; border-radius: 2px; vertical-align: -1px; margin-right: 4px; }
#tooltip { position: fixed; z-index: 10; pointer-events: none; background: var(--tip-bg); color: var(--tip-fg); padding: 6px 9px; border-radius: 6px; font-size: 12px; max-width: 520px; display: none; white-space: pre-wrap; word-break: break-all; }
#tl-wrap { display: flex; overflow: hidden; }
#tl-labels { flex: 0 0 190px; border-right: 1px solid var(--line); font-size: 11px; }
#tl-canvas-wrap { flex: 1 1 auto; position: relative; min-width: 0; }
#tl-canvas { display: block; cursor: crosshair; }
.tl-axis { height: 22px; }
.tl-group { height: 20px; line-height: 20px; padding: 0 6px; font-weight: 600; background: var(--card); overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
.tl-label { height: 16px; line-height: 16px; padding: 0 6px 0 14px; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
#tl-sel { position: absolute; top: 0; bottom: 0; background: rgba(47, 111, 223, 0.18); border: 1px solid var(--accent); display: none; pointer-events: none; }
.bar { display: flex; height: 12px; width: 100%; min-width: 120px; border-radius: 3px; overflow: hidden; background: var(--line); }
.bar span { display: block; height: 100%; }
details summary { cursor: pointer; color: var(--accent); }
.stack { margin: 4px 0 8px; padding: 6px 8px; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; white-space: pre; overflow-x: auto; }
ul.tree, ul.tree ul { list-style: none; padding-left: 18px; margin: 2px 0; }
ul.tree { padding-left: 0; }
ul.tree li { margin: 3px 0; }
.badge { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 8px; border: 1px solid var(--line); color: var(--muted); margin-left: 4px; }
.sev-critical { color: var(--bad); border-color: var(--bad); }
.sev-warning { color: var(--warn); border-color: var(--warn); }
.na { color: var(--muted); font-style: italic; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.chart svg { width: 100%; height: auto; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; }
.chart text { fill: var(--muted); font-size: 11px; }
.chart .axis line, .chart .axis path { stroke: var(--line); }
.factor-name { font-weight: 600; white-space: nowrap; }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
@media (max-width: 860px) { .numbers, .charts { grid-template-columns: 1fr; } }
"""##
}
