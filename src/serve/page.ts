/**
 * The pit-wall page (GET /): per metric a live chart of the last windows and a top-keys table
 * fed by the SSE stream, plus pipeline health from /metrics. One self-contained HTML document
 * with inline SVG drawing: nothing to build, nothing fetched from elsewhere.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>pitwall</title>
<style>
 body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#0f1419;color:#e6e6e6}
 header{padding:12px 20px;background:#1b232c;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
 header h1{font-size:18px;margin:0;color:#ff7a1a} .fig{color:#9fb3c8} .fig b{color:#fff}
 main{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:14px;padding:14px}
 section{background:#1b232c;border-radius:8px;padding:12px}
 h2{font-size:15px;margin:0 0 4px} .meta{color:#8899aa;font-size:12px;margin-bottom:6px}
 svg{width:100%;height:160px;background:#121a21;border-radius:4px}
 table{width:100%;border-collapse:collapse;margin-top:8px;font-size:12px} td,th{padding:2px 6px;text-align:right} td:first-child,th:first-child{text-align:left}
 th{color:#8899aa;font-weight:normal;border-bottom:1px solid #2a3642} .open{color:#ffb366} .final{color:#6fcf97}
 #h-live[data-state=live]{color:#6fcf97} #h-live[data-state=reconnecting],#h-live[data-state=connecting]{color:#ffb366} #h-live[data-state=stale]{color:#ff5c5c;font-weight:bold}
 body.stale main{opacity:.55}
 .badge{font-size:.7em;margin-left:.6em;padding:.1em .5em;border-radius:.6em;border:1px solid currentColor;vertical-align:middle}
 .badge[data-state=live]{color:#6fcf97} .badge[data-state=shed]{color:#ffb366} .badge[data-state=backfilled]{color:#7fb2ff}
</style></head><body>
<header><h1>pitwall</h1><span class="fig">events <b id="h-events">–</b></span><span class="fig">events/s <b id="h-rate">–</b></span>
<span class="fig">late <b id="h-late">–</b></span><span class="fig">quarantined <b id="h-quar">–</b></span><span class="fig">duplicates <b id="h-dup">–</b></span>
<span class="fig">watermark lag <b id="h-wm">–</b></span><span class="fig" id="h-live" data-state="connecting">connecting…</span><span class="fig" id="h-status"></span></header>
<main id="metrics"></main>
<script>
const params = new URLSearchParams(location.search);
const token = params.get('token');
const auth = token ? { headers: { Authorization: 'Bearer ' + token } } : {};
const q = (u) => token ? u + (u.includes('?') ? '&' : '?') + 'access_token=' + encodeURIComponent(token) : u;
const WINDOWS = 30;
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
// One format per column, from its type: key columns verbatim (an id is copied off the wall as
// printed), int columns grouped, double columns grouped with two decimals.
function fmt(v, col) {
  if (v === null || v === undefined) return '∅';
  if (typeof v !== 'number' || !col || col.key) return esc(String(v));
  return col.type === 'double' ? v.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : v.toLocaleString();
}
function chart(svg, points, col) {
  const W = 440, H = 160, P = 28;
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  if (points.length === 0) { svg.innerHTML = '<text x="' + W / 2 + '" y="' + H / 2 + '" fill="#667" text-anchor="middle">waiting for windows…</text>'; return; }
  const ys = points.map((p) => p[1]);
  const max = ys.reduce((m, v) => Math.max(m, v), 0), min = ys.reduce((m, v) => Math.min(m, v), 0), span = max - min || 1;
  const x = (i) => P + (points.length === 1 ? (W - 2 * P) / 2 : (i * (W - 2 * P)) / (points.length - 1));
  const y = (v) => H - P + 6 - ((v - min) / span) * (H - 2 * P);
  const d = points.map((p, i) => (i ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(p[1]).toFixed(1)).join(' ');
  svg.innerHTML = '<path d="' + d + '" fill="none" stroke="#ff7a1a" stroke-width="2"/>' +
    points.map((p, i) => '<circle cx="' + x(i).toFixed(1) + '" cy="' + y(p[1]).toFixed(1) + '" r="2.5" fill="' + (p[2] ? '#6fcf97' : '#ffb366') + '"/>').join('') +
    '<text x="4" y="14" fill="#8899aa" font-size="11">' + fmt(max, col) + '</text><text x="4" y="' + (H - 6) + '" fill="#8899aa" font-size="11">' + esc(points[0][0].slice(11, 19)) + ' → ' + esc(points[points.length - 1][0].slice(11, 19)) + '</text>';
}
async function main() {
  const { metrics } = await (await fetch(q('/v1/metrics'), auth)).json();
  const root = document.getElementById('metrics');
  // One stream for every metric: browsers allow six connections per server, and an open
  // EventSource per metric would leave none for the fetches below.
  const handlers = new Map();
  const loaders = new Map();
  const es = new EventSource(q('/v1/stream'));
  const dispatch = (ev) => { const e = JSON.parse(ev.data); const h = handlers.get(e.metric); if (h) h(e); };
  es.addEventListener('upsert', dispatch);
  es.addEventListener('delete', dispatch);
  // The server could not resume this client (history gone, or it fell behind): refetch the rows.
  es.addEventListener('reset', (ev) => {
    const names = (JSON.parse(ev.data).metrics) || [...loaders.keys()];
    for (const n of names) { const load = loaders.get(n); if (load) load(true).catch(() => undefined); }
  });
  // Connection state: live, reconnecting (EventSource retries by itself), stale after 3 s down.
  const live = document.getElementById('h-live');
  let downSince = null;
  const showLive = () => {
    const down = downSince !== null;
    const stale = down && (Date.now() - downSince > 3000 || es.readyState === EventSource.CLOSED);
    live.dataset.state = !down ? 'live' : stale ? 'stale' : 'reconnecting';
    live.textContent = !down ? '● live' : stale ? 'stale since ' + new Date(downSince).toLocaleTimeString() : 'reconnecting…';
    document.body.classList.toggle('stale', stale);
  };
  es.onopen = () => { downSince = null; showLive(); };
  es.onerror = () => { if (downSince === null) downSince = Date.now(); showLive(); };
  setInterval(showLive, 1000);
  for (const m of metrics) {
    const valueCol = m.columns.find((c) => !c.key && (c.type === 'int' || c.type === 'double') && c.name !== 'rn');
    const keyCols = m.columns.filter((c) => c.key).map((c) => c.name);
    const sec = document.createElement('section');
    sec.innerHTML = '<h2>' + esc(m.name) + '<span class="badge" data-badge="' + esc(m.name) + '" data-state="live">live</span></h2><div class="meta">' + esc(m.window.display) + ' · emit ' + esc(m.emit) + ' · tier ' + esc(m.tier) + ' · ' + esc(valueCol ? valueCol.name : '') + ' per window · hash ' + esc(m.hash) + '</div><svg data-metric="' + esc(m.name) + '"></svg><table><thead></thead><tbody></tbody></table>';
    root.appendChild(sec);
    const rows = new Map();
    // CUMULATE windows of one period share window_start: the chart has a point per window end.
    const winOf = (row) => (m.window.kind === 'cumulate' ? row.window_end : row.window_start);
    const render = () => {
      const perWindow = new Map();
      for (const { row, final } of rows.values()) {
        const w = perWindow.get(winOf(row)) || [0, true];
        w[0] += valueCol && typeof row[valueCol.name] === 'number' ? row[valueCol.name] : 0;
        w[1] = w[1] && final;
        perWindow.set(winOf(row), w);
      }
      const pts = [...perWindow].sort((a, b) => (a[0] < b[0] ? -1 : 1)).slice(-WINDOWS).map(([ws, [v, f]]) => [ws, v, f]);
      chart(sec.querySelector('svg'), pts, valueCol);
      const latestWs = pts.length ? pts[pts.length - 1][0] : null;
      const top = [...rows.values()].filter((x) => winOf(x.row) === latestWs)
        .sort((a, b) => (valueCol ? (b.row[valueCol.name] ?? 0) - (a.row[valueCol.name] ?? 0) : 0)).slice(0, 8);
      const cols = [...keyCols, ...(valueCol ? [valueCol.name] : [])];
      const colOf = new Map(m.columns.map((c) => [c.name, c]));
      sec.querySelector('thead').innerHTML = '<tr>' + cols.map((c) => '<th>' + esc(c) + '</th>').join('') + '<th>window</th></tr>';
      sec.querySelector('tbody').innerHTML = top.map((x) => '<tr>' + cols.map((c) => '<td>' + fmt(x.row[c], colOf.get(c)) + '</td>').join('') + '<td class="' + (x.final ? 'final' : 'open') + '">' + (x.final ? 'final' : 'open') + '</td></tr>').join('');
      sec.dataset.updates = String(Number(sec.dataset.updates || 0) + 1);
    };
    let pending = false;
    // Keys changed by the stream since the current load began: newer than what the load fetches.
    let touched = new Set();
    const onChange = (e) => {
      const key = e.windowStart + '|' + (e.row ? keyCols.map((k) => e.row[k]).join('|') : e.key);
      touched.add(key);
      if (e.kind === 'delete') { for (const k of rows.keys()) if (k.startsWith(e.windowStart + '|') && rows.get(k).id === e.key) rows.delete(k); }
      else rows.set(key, { row: e.row, final: e.final, id: e.key });
      if (rows.size > 20000) { const ordered = [...rows.keys()].sort(); for (const k of ordered.slice(0, rows.size - 20000)) rows.delete(k); }
      if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; render(); }); }
    };
    handlers.set(m.name, onChange);
    // Rows as /rows has them, each marked final or still open; fresh: forget what was shown
    // (after a reset). Changes streamed while this loads are newer than the fetched rows: kept.
    const load = async (fresh) => {
      touched = new Set();
      const seen = touched;
      const { rows: initial } = await (await fetch(q('/v1/metrics/' + encodeURIComponent(m.name) + '/rows?limit=1000'), auth)).json();
      if (fresh) for (const k of [...rows.keys()]) if (!seen.has(k)) rows.delete(k);
      for (const r of initial) {
        const key = r.window_start + '|' + keyCols.map((k) => r[k]).join('|');
        if (!seen.has(key)) rows.set(key, { row: r, final: r.final === true });
      }
      render();
    };
    loaders.set(m.name, load);
    await load(false);
  }
}
// A badge per metric: live; shed since T (its windows are held back); backfilled (N windows recomputed from the archive).
async function badges() {
  const { metrics } = await (await fetch(q('/v1/metrics'), auth)).json();
  for (const m of metrics) {
    const b = document.querySelector('[data-badge="' + CSS.escape(m.name) + '"]');
    if (!b || !m.shed) continue;
    const s = m.shed;
    b.dataset.state = s.shed ? 'shed' : s.backfilledWindows > 0 ? 'backfilled' : 'live';
    b.textContent = s.shed ? 'shed since ' + new Date(s.since).toLocaleTimeString() : s.backfilledWindows > 0 ? 'backfilled (' + s.backfilledWindows + ' windows' + (s.pendingIntervals ? ', more pending' : '') + ')' : s.pendingIntervals ? 'live (backfill pending)' : 'live';
  }
}
let lastEvents = null, lastAt = 0;
async function health() {
  try {
    const text = await (await fetch(q('/metrics'), auth)).text();
    const sum = (name) => text.split('\\n').filter((l) => l.startsWith(name + '{') || l.startsWith(name + ' ')).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
    const events = sum('pitwall_events_total');
    const now = Date.now();
    if (lastEvents !== null) document.getElementById('h-rate').textContent = Math.round((events - lastEvents) / ((now - lastAt) / 1000)).toLocaleString();
    lastEvents = events; lastAt = now;
    document.getElementById('h-events').textContent = events.toLocaleString();
    document.getElementById('h-late').textContent = sum('pitwall_late_total').toLocaleString();
    document.getElementById('h-quar').textContent = sum('pitwall_quarantined_total').toLocaleString();
    document.getElementById('h-dup').textContent = sum('pitwall_duplicates_total').toLocaleString();
    const wm = text.split('\\n').filter((l) => l.startsWith('pitwall_watermark_lag_seconds{')).map((l) => Number(l.split(' ').pop()));
    document.getElementById('h-wm').textContent = wm.length ? wm.reduce((m, v) => Math.max(m, v), -Infinity).toFixed(1) + ' s' : '–';
    document.getElementById('h-status').textContent = '';
    badges();
  } catch (e) { document.getElementById('h-status').textContent = 'engine unreachable'; }
}
main().catch((e) => { document.getElementById('h-status').textContent = 'error: ' + e.message; });
health(); setInterval(health, 2000);
</script></body></html>`;
