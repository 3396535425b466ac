// SmarterRouter dashboard: polls the admin REST API and draws SVG charts. No framework, no CDN: the
// router serves this file itself. Admin auth applies: the browser sends the same credentials it used
// to open /dashboard (HTTP Basic with the admin key as password, or nothing on loopback).
const REFRESH_MS = 3000;
const MINUTES = 30;
const COLORS = ['#5b8def', '#3ecf8e', '#f0b429', '#ef5b5b', '#a78bfa', '#22d3ee', '#f472b6', '#a3e635', '#fb923c', '#94a3b8'];
const CATEGORY_COLORS = { coding: '#5b8def', reasoning: '#f0b429', creativity: '#f472b6', general: '#3ecf8e' };
const CATEGORIES = Object.keys(CATEGORY_COLORS);
const SVG = 'http://www.w3.org/2000/svg';
// "GB" on this page is GiB, as in the API (total_gb, budget_gb) and the VRAM budget: 2^30 bytes.
const BYTES_PER_GB = 1024 ** 3;

const $ = (id) => document.getElementById(id);
const colorFor = (() => {
  const assigned = new Map();
  return (key) => {
    if (!assigned.has(key)) assigned.set(key, COLORS[assigned.size % COLORS.length]);
    return assigned.get(key);
  };
})();

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function html(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v;
    else node.setAttribute(k, String(v));
  }
  for (const child of children) node.append(child);
  return node;
}

function chartWidth(container, fallback) {
  return Math.max(320, Math.round(container.clientWidth || fallback));
}

function svgBox(width, height) {
  return el('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'xMinYMin meet', role: 'img' });
}

function legend(entries) {
  return html(
    'div',
    { class: 'legend' },
    entries.map(([label, color]) => {
      // A style property, not a style attribute: the page's CSP allows no inline styles.
      const swatch = html('i');
      swatch.style.background = color;
      return html('span', {}, [swatch, label]);
    }),
  );
}

function empty(container, message) {
  container.replaceChildren(html('div', { class: 'empty', text: message }));
  container.dataset.points = '0';
}

/** When a 429 asked us to wait (Retry-After), polling pauses until then instead of hammering on. */
let pausedUntil = 0;

async function getJson(path) {
  const response = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (!response.ok) {
    let message = `${response.status}`;
    try {
      message = (await response.json()).error?.message ?? message;
    } catch {}
    if (response.status === 429) {
      const seconds = Number(response.headers.get('retry-after'));
      pausedUntil = Math.max(pausedUntil, Date.now() + (Number.isFinite(seconds) && seconds > 0 ? seconds : 30) * 1000);
    }
    throw new Error(message);
  }
  return response.json();
}

// ---- charts --------------------------------------------------------------------------------------

/** Horizontal bars: rows of [label, value 0..1, color, caption]. */
function horizontalBars(container, rows, { max = 1, width: fixedWidth } = {}) {
  if (!rows.length) return empty(container, 'no data yet');
  const rowHeight = 22;
  // Drawn at the container's own width so text keeps its size (no scaling of the viewBox).
  const width = fixedWidth ?? chartWidth(container, 560);
  const labelWidth = Math.min(260, Math.round(width * 0.32));
  const svg = svgBox(width, rows.length * rowHeight + 4);
  rows.forEach(([label, value, color, caption], i) => {
    const y = i * rowHeight + 2;
    const maxChars = Math.floor(labelWidth / 6.5);
    svg.append(el('text', { x: 0, y: y + 14, class: 'label' }, label.length > maxChars ? `${label.slice(0, maxChars - 1)}…` : label));
    svg.append(el('rect', { x: labelWidth, y: y + 3, width: width - labelWidth - 90, height: 14, fill: '#222b3d', rx: 3 }));
    svg.append(el('rect', { x: labelWidth, y: y + 3, width: Math.max(1, ((width - labelWidth - 90) * Math.min(value, max)) / max), height: 14, fill: color, rx: 3, 'data-value': value }));
    svg.append(el('text', { x: width - 84, y: y + 14 }, caption));
  });
  container.replaceChildren(svg);
  container.dataset.points = String(rows.length);
}

/** Stacked columns: buckets (x labels) x series, with a legend. */
function stackedColumns(container, buckets, series) {
  const total = buckets.reduce((n, b) => n + series.reduce((m, s) => m + (b.values[s.key] ?? 0), 0), 0);
  if (!total) return empty(container, 'no routed requests in the last 30 minutes');
  const width = chartWidth(container, 900);
  const height = 180;
  const left = 34;
  const bottom = 20;
  const max = Math.max(1, ...buckets.map((b) => series.reduce((m, s) => m + (b.values[s.key] ?? 0), 0)));
  const svg = svgBox(width, height);
  const plotH = height - bottom - 6;
  const colW = (width - left) / buckets.length;
  for (const t of [0, 0.5, 1]) {
    const y = 6 + plotH * (1 - t);
    svg.append(el('line', { x1: left, x2: width, y1: y, y2: y, stroke: '#2a3347' }));
    svg.append(el('text', { x: 0, y: y + 4 }, String(Math.round(max * t))));
  }
  let points = 0;
  buckets.forEach((b, i) => {
    let y = 6 + plotH;
    for (const s of series) {
      const v = b.values[s.key] ?? 0;
      if (!v) continue;
      const h = (plotH * v) / max;
      y -= h;
      svg.append(el('rect', { x: left + i * colW + 1, y, width: Math.max(1, colW - 2), height: h, fill: s.color, 'data-series': s.key, 'data-value': v }));
      points++;
    }
    if (i % 5 === 0) svg.append(el('text', { x: left + i * colW, y: height - 4 }, b.label));
  });
  container.replaceChildren(svg, legend(series.map((s) => [s.key, s.color])));
  container.dataset.points = String(points);
}

/** Lines over time: series of {key, color, points: [{t, v}]}, y in GB up to yMax. */
function lines(container, series, yMax) {
  const all = series.flatMap((s) => s.points);
  if (all.length < 2) return empty(container, 'no GPU samples (no nvidia-smi, or monitoring disabled)');
  const width = chartWidth(container, 900);
  const height = 180;
  const left = 40;
  const bottom = 20;
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t), t0 + 1);
  const max = Math.max(yMax || 0, ...all.map((p) => p.v), 1);
  const plotH = height - bottom - 6;
  const x = (t) => left + ((width - left - 4) * (t - t0)) / (t1 - t0);
  const y = (v) => 6 + plotH * (1 - v / max);
  const svg = svgBox(width, height);
  for (const f of [0, 0.5, 1]) {
    svg.append(el('line', { x1: left, x2: width, y1: y(max * f), y2: y(max * f), stroke: '#2a3347' }));
    svg.append(el('text', { x: 0, y: y(max * f) + 4 }, `${(max * f).toFixed(0)} GB`));
  }
  svg.append(el('text', { x: left, y: height - 4 }, new Date(t0).toLocaleTimeString()));
  svg.append(el('text', { x: width - 70, y: height - 4 }, new Date(t1).toLocaleTimeString()));
  for (const s of series) {
    if (!s.points.length) continue;
    const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
    svg.append(el('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2, 'data-series': s.key, 'data-points': s.points.length }));
  }
  container.replaceChildren(svg, legend(series.map((s) => [s.key, s.color])));
  container.dataset.points = String(all.length);
}

// ---- panels --------------------------------------------------------------------------------------

function renderBackends(health) {
  const rows = health.backends.map((b) => [`${b.ok ? '●' : '○'} ${b.name} (${b.provider})`, b.ok ? 1 : 0.04, b.ok ? '#3ecf8e' : '#ef5b5b', b.ok ? `${Math.round(b.latency_ms)} ms` : 'down']);
  horizontalBars($('backends'), rows);
  const status = $('status');
  status.textContent = health.ready ? 'ready' : 'degraded';
  status.className = `pill ${health.ready ? 'ok' : 'bad'}`;
}

function renderCache(stats) {
  const rows = (stats.caches ?? []).map((c) => {
    const lookups = c.hits + c.misses;
    const rate = lookups ? c.hits / lookups : 0;
    return [`${c.kind} (${c.entries} entries)`, rate, '#5b8def', lookups ? `${Math.round(rate * 100)}% of ${lookups}` : 'no lookups'];
  });
  horizontalBars($('cache'), rows);
}

function renderRouting(decisions) {
  const now = Date.now();
  const start = now - MINUTES * 60_000;
  const buckets = Array.from({ length: MINUTES }, (_, i) => {
    const t = new Date(start + (i + 1) * 60_000);
    return { label: t.toTimeString().slice(0, 5), byModel: {}, byCategory: {} };
  });
  for (const d of decisions) {
    const t = Date.parse(d.created_at);
    if (t < start || !d.selected_model) continue;
    const b = buckets[Math.min(MINUTES - 1, Math.floor((t - start) / 60_000))];
    b.byModel[d.selected_model] = (b.byModel[d.selected_model] ?? 0) + 1;
    b.byCategory[d.category] = (b.byCategory[d.category] ?? 0) + 1;
  }
  const models = [...new Set(decisions.map((d) => d.selected_model).filter(Boolean))].sort();
  stackedColumns($('routing-models'), buckets.map((b) => ({ label: b.label, values: b.byModel })), models.map((m) => ({ key: m, color: colorFor(m) })));
  stackedColumns($('routing-categories'), buckets.map((b) => ({ label: b.label, values: b.byCategory })), CATEGORIES.map((c) => ({ key: c, color: CATEGORY_COLORS[c] })));
}

function renderProfiles(profiles, vram) {
  const container = $('profiles');
  const measured = new Map((vram?.loaded_models ?? []).map((m) => [m.model, m]));
  const bytesOf = (p) => p.vram_bytes ?? measured.get(p.model)?.vram_bytes;
  // VRAM bars are scaled to what this machine has: the GPUs' memory, else the configured budget,
  // else the largest model (with no GPU seen there is no capacity to compare against).
  const gpuGb = (vram?.gpus ?? []).reduce((sum, g) => sum + (g.total_gb ?? 0), 0);
  const largest = Math.max(0, ...profiles.map((p) => bytesOf(p) ?? 0)) / BYTES_PER_GB;
  const [scaleGb, scaleLabel] = gpuGb > 0 ? [gpuGb, `of ${gpuGb.toFixed(0)} GB GPU memory`] : vram?.budget_gb ? [vram.budget_gb, `of the ${vram.budget_gb} GB budget`] : [largest, 'relative to the largest model'];
  const rows = [];
  for (const p of profiles) {
    for (const c of CATEGORIES) {
      if (p.scores?.[c] === undefined || p.scores[c] === null) continue;
      rows.push([`${p.model} · ${c}`, p.scores[c], CATEGORY_COLORS[c], p.scores[c].toFixed(2)]);
    }
    const bytes = bytesOf(p);
    if (bytes && scaleGb > 0) rows.push([`${p.model} · VRAM`, Math.min(1, bytes / BYTES_PER_GB / scaleGb), '#a78bfa', `${(bytes / BYTES_PER_GB).toFixed(1)} GB`]);
  }
  if (!rows.length) return empty(container, 'no profiles yet: models are profiled in the background after discovery');
  horizontalBars(container, rows);
  container.append(legend([...CATEGORIES.map((c) => [c, CATEGORY_COLORS[c]]), [`VRAM (${scaleLabel})`, '#a78bfa']]));
}

function renderVram(vram) {
  const byGpu = new Map();
  for (const sample of vram.history ?? []) {
    for (const g of sample.gpus) {
      if (!byGpu.has(g.index)) byGpu.set(g.index, []);
      byGpu.get(g.index).push({ t: Date.parse(sample.at), v: g.used_gb });
    }
  }
  const names = new Map((vram.gpus ?? []).map((g) => [g.index, `GPU ${g.index} ${g.name}`]));
  const yMax = Math.max(0, ...(vram.gpus ?? []).map((g) => g.total_gb));
  lines($('vram'), [...byGpu].map(([index, points]) => ({ key: names.get(index) ?? `GPU ${index}`, color: COLORS[index % COLORS.length], points })), yMax);
}

let openDecision;
function renderDecisions(decisions) {
  const rows = [];
  for (const d of decisions.slice(0, 25)) {
    const row = html('tr', { class: 'decision', 'data-id': d.response_id }, [
      html('td', { text: new Date(d.created_at).toLocaleTimeString() }),
      html('td', { text: d.category }),
      html('td', { text: d.complexity }),
      html('td', { text: d.selected_model ?? '—' }),
      html('td', { text: d.status + (d.attempts.length > 1 ? ` (${d.attempts.length - 1} fallback)` : '') + (d.cache !== 'miss' ? ` [${d.cache}]` : '') }),
      html('td', { text: `${Math.round(d.latency_ms)} ms` }),
    ]);
    row.addEventListener('click', () => {
      openDecision = openDecision === d.response_id ? undefined : d.response_id;
      renderDecisions(decisions);
    });
    rows.push(row);
    if (openDecision === d.response_id) {
      const cell = html('td', { colspan: 6 });
      const bars = html('div');
      horizontalBars(
        bars,
        d.candidates.map((c) => [c.model, c.excluded ? 0 : Math.max(0, c.total_score ?? 0), c.excluded ? '#ef5b5b' : colorFor(c.model), c.excluded ? `excluded` : (c.total_score ?? 0).toFixed(3)]),
        // Not attached yet: size it from the table it will sit in.
        { width: chartWidth($('decisions'), 560) - 16 },
      );
      const reasons = d.candidates.filter((c) => c.excluded).map((c) => `${c.model}: ${c.reason}`);
      cell.append(html('div', { class: 'muted', text: `${d.response_id} · complexity ${d.complexity_score.toFixed(2)} · quality preference ${d.quality_preference}` }), bars);
      if (reasons.length) cell.append(html('div', { class: 'muted', text: `excluded — ${reasons.join('; ')}` }));
      rows.push(html('tr', { class: 'explain' }, [cell]));
    }
  }
  const head = html('tr', {}, ['time', 'category', 'complexity', 'model', 'status', 'latency'].map((h) => html('th', { text: h })));
  const table = html('table', {}, [html('thead', {}, [head]), html('tbody', {}, rows)]);
  $('decisions').replaceChildren(decisions.length ? table : html('div', { class: 'empty', text: 'no decisions yet' }));
}

// ---- loop ----------------------------------------------------------------------------------------

async function refresh() {
  if (Date.now() < pausedUntil) {
    $('updated').textContent = `rate limited: next refresh in ${Math.ceil((pausedUntil - Date.now()) / 1000)} s`;
    return;
  }
  const [health, stats, profiles, vram, decisions] = await Promise.allSettled([
    getJson('/health'),
    getJson('/admin/stats'),
    getJson('/admin/profiles?limit=100'),
    getJson('/admin/vram'),
    getJson('/admin/decisions?limit=500'),
  ]);
  const show = (result, render, target) => {
    if (result.status === 'fulfilled') render(result.value);
    else empty($(target), `unavailable: ${result.reason.message}`);
  };
  show(health, renderBackends, 'backends');
  show(stats, renderCache, 'cache');
  show(decisions, (v) => renderRouting(v.decisions), 'routing-models');
  show(decisions, (v) => renderDecisions(v.decisions), 'decisions');
  show(profiles, (v) => renderProfiles(v.data ?? [], vram.status === 'fulfilled' ? vram.value : undefined), 'profiles');
  show(vram, renderVram, 'vram');
  $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
  document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed ?? 0) + 1);
}

refresh();
setInterval(refresh, REFRESH_MS);
