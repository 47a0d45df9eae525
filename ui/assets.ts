// The dashboard's one stylesheet, served from the package (no CDN, no inline style).
export const APP_CSS = `
:root { --fg: #1b1f24; --muted: #5b6470; --line: #d8dde3; --bg: #ffffff; --accent: #1f6feb; --good: #1a7f37; --bad: #cf222e; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 18px; align-items: baseline; padding: 10px 24px; border-bottom: 1px solid var(--line); background: #f6f8fa; }
header a { color: var(--fg); text-decoration: none; }
header a[aria-current] { font-weight: 600; border-bottom: 2px solid var(--accent); }
main { padding: 16px 24px 48px; max-width: 1280px; }
h1 { font-size: 22px; margin: 8px 0 12px; } h2 { font-size: 17px; margin: 24px 0 8px; } h3 { font-size: 15px; }
a { color: var(--accent); }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px; border: 1px solid var(--line); }
.badge.production { background: #dafbe1; border-color: #4ac26b; } .badge.staging { background: #fff8c5; border-color: #d4a72c; }
.badge.archived { color: var(--muted); } .badge.failed, .badge.abandoned { background: #ffebe9; border-color: #ff8182; }
.badge.running { background: #ddf4ff; border-color: #54aeff; } .badge.interrupted { background: #fff1e5; border-color: #fb8f44; }
.better { color: var(--good); font-weight: 600; } .worse { color: var(--bad); font-weight: 600; }
.warning { background: #fff8c5; border: 1px solid #d4a72c; padding: 8px 12px; border-radius: 6px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 260px; max-width: 600px; }
.card h3 { margin: 0 0 6px; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; margin: 0; } dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
pre { background: #f6f8fa; padding: 10px; overflow: auto; max-height: 480px; border-radius: 6px; }
form.inline { display: inline; } form.filters { display: flex; gap: 8px; flex-wrap: wrap; align-items: end; margin: 8px 0; }
label { display: inline-flex; flex-direction: column; font-size: 12px; color: var(--muted); }
svg.chart text { font-size: 11px; fill: var(--muted); } svg.chart .grid { stroke: #eef1f4; } svg.chart .zero { stroke: #8c959f; stroke-dasharray: 4 3; }
svg.chart .interval { stroke-width: 6; stroke-opacity: 0.25; }
.legend span { margin-right: 14px; } .report img { max-width: 100%; }
.pager a { margin-right: 12px; }
`;
