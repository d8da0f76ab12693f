// AMIS WebGIS web map. Plain ES modules, no build step: MapLibre GL JS is vendored in
// /assets/vendor and everything else comes from this server's own API.
import * as maplibregl from './vendor/maplibre-gl/maplibre-gl.mjs';

const OCCURRENCES = 'mineral-occurrences';
const $ = (id) => document.getElementById(id);
const state = { commodities: [], country: '', group: '', hidden: new Set() };
let critical = [];

function setStatus(text, kind) {
  const el = $('status');
  el.textContent = text || '';
  el.className = text ? kind : '';
}

async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).description || detail; } catch { /* not JSON */ }
    throw new Error(`${url}: ${response.status} ${detail}`);
  }
  return response.json();
}

// ---- view <-> URL fragment --------------------------------------------------------------
function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const view = (params.get('map') || '').split('/').map(Number);
  if (params.get('commodity')) state.commodities = params.get('commodity').split('|');
  state.country = params.get('country') || '';
  state.group = params.get('group') || '';
  if (params.get('hide')) state.hidden = new Set(params.get('hide').split(','));
  return view.length === 3 && view.every(Number.isFinite) ? { zoom: view[0], center: [view[2], view[1]] } : null;
}

function writeHash() {
  const c = map.getCenter();
  const params = new URLSearchParams();
  params.set('map', `${map.getZoom().toFixed(2)}/${c.lat.toFixed(4)}/${c.lng.toFixed(4)}`);
  if (state.commodities.length) params.set('commodity', state.commodities.join('|'));
  if (state.country) params.set('country', state.country);
  if (state.group) params.set('group', state.group);
  if (state.hidden.size) params.set('hide', [...state.hidden].join(','));
  history.replaceState(null, '', `#${params.toString().replaceAll('%2F', '/').replaceAll('%7C', '|').replaceAll('%2C', ',')}`);
}

// ---- filters ------------------------------------------------------------------------------
function mapFilter() {
  const parts = ['all', ['==', ['geometry-type'], 'Point']];
  if (state.commodities.length) {
    // `commodities` lists every commodity ("Copper, Gold, Molybdenum"): match any element.
    parts.push(['any', ...state.commodities.map((c) => ['in', c, ['get', 'commodities']])]);
  }
  if (state.country) parts.push(['==', ['get', 'country'], state.country]);
  if (state.group) parts.push(['==', ['get', 'deposit_group'], state.group]);
  return parts;
}

function apiFilter() {
  const params = new URLSearchParams();
  for (const c of state.commodities) params.append('commodities', c);
  if (state.country) params.set('country', state.country);
  if (state.group) params.set('deposit_group', state.group);
  return params;
}

function viewBbox() {
  const b = map.getBounds();
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const west = b.getWest() < -180 || b.getEast() > 180 ? -180 : b.getWest();
  const east = b.getWest() < -180 || b.getEast() > 180 ? 180 : b.getEast();
  return [west, clamp(b.getSouth(), -90, 90), east, clamp(b.getNorth(), -90, 90)].map((v) => v.toFixed(5)).join(',');
}

function itemsUrl(extra) {
  const params = apiFilter();
  params.set('bbox', viewBbox());
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return `/api/collections/${OCCURRENCES}/items?${params}`;
}

let countRequest = 0;
async function updateCount() {
  const mine = ++countRequest;
  $('count').textContent = 'Counting…';
  try {
    const fc = await getJson(itemsUrl({ limit: 1 }));
    if (mine !== countRequest) return;
    const filtered = state.commodities.length || state.country || state.group;
    $('count').textContent = `${fc.numberMatched} occurrence${fc.numberMatched === 1 ? '' : 's'} ${filtered ? 'match the filter ' : ''}in view`;
  } catch (e) {
    if (mine === countRequest) $('count').textContent = `Could not count occurrences: ${e.message}`;
  }
}

function updateDownloads() {
  const formats = [['GeoJSON', { f: 'json', limit: 10000 }], ['CSV', { f: 'csv' }], ['FlatGeobuf', { f: 'fgb' }]];
  $('downloads').replaceChildren(...formats.map(([label, extra]) => {
    const a = document.createElement('a');
    a.href = itemsUrl(extra);
    a.textContent = label;
    a.download = `occurrences.${extra.f === 'json' ? 'geojson' : extra.f}`;
    a.id = `download-${extra.f}`;
    return a;
  }));
}

function applyFilters() {
  for (const layer of map.getStyle().layers) {
    if (layer.metadata?.['amis:layer'] === OCCURRENCES && layer.type === 'circle') map.setFilter(layer.id, mapFilter());
  }
  $('f-commodity').value = state.commodities.length === 1 ? state.commodities[0] : '';
  $('f-country').value = state.country;
  $('f-group').value = state.group;
  updateCount();
  updateDownloads();
  writeHash();
}

async function fillFilterMenus() {
  const q = await getJson(`/api/collections/${OCCURRENCES}/queryables`);
  const fill = (select, values) => {
    for (const v of values) select.append(new Option(v, v));
  };
  fill($('f-commodity'), q.properties.commodities?.enum || []);
  fill($('f-country'), q.properties.country?.enum || []);
  fill($('f-group'), q.properties.deposit_group?.enum || []);
}

// ---- layers and legends ---------------------------------------------------------------------
function buildLayerList() {
  const groups = new Map();
  for (const layer of map.getStyle().layers) {
    const id = layer.metadata?.['amis:layer'];
    if (!id) continue;
    if (!groups.has(id)) groups.set(id, { title: layer.metadata['amis:title'], legend: layer.metadata['amis:legend'] || [], styleIds: [] });
    groups.get(id).styleIds.push(layer.id);
    if (id === OCCURRENCES) critical = (layer.metadata['amis:legend'].find((l) => l.label.startsWith('Battery'))?.values) || critical;
  }
  $('layers').replaceChildren(...[...groups].map(([id, g]) => {
    const li = document.createElement('li');
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = !state.hidden.has(id);
    box.dataset.layer = id;
    box.addEventListener('change', () => {
      if (box.checked) state.hidden.delete(id); else state.hidden.add(id);
      setVisibility(id, g.styleIds);
      legend.hidden = !box.checked;
      writeHash();
    });
    label.append(box, ` ${g.title}`);
    const legend = document.createElement('ul');
    legend.className = 'legend';
    legend.hidden = !box.checked;
    for (const entry of g.legend) {
      const item = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = entry.color;
      item.append(swatch, entry.label);
      legend.append(item);
    }
    li.append(label, legend);
    setVisibility(id, g.styleIds);
    return li;
  }));
}

function setVisibility(id, styleIds) {
  for (const sid of styleIds) map.setLayoutProperty(sid, 'visibility', state.hidden.has(id) ? 'none' : 'visible');
}

// ---- popups -----------------------------------------------------------------------------
const POPUP_FIELDS = [
  ['commodities', 'Commodities'], ['primary_commodity', 'Primary commodity'], ['deposit_type', 'Deposit type'],
  ['deposit_group', 'Deposit group'], ['country', 'Country'], ['state_province', 'Province'],
  ['slip_type', 'Slip type'], ['source_dataset', 'Source'],
];

function popupHtml(feature, title) {
  const p = feature.properties;
  const table = document.createElement('table');
  const shown = POPUP_FIELDS.filter(([k]) => p[k] !== undefined && p[k] !== '');
  const rows = shown.length ? shown : Object.keys(p).slice(0, 10).map((k) => [k, k]);
  for (const [key, label] of rows) {
    const tr = table.insertRow();
    const th = document.createElement('th');
    th.textContent = label;
    const td = tr.insertCell();
    tr.prepend(th);
    if (key === 'source_dataset' && p.source_url) {
      const a = document.createElement('a');
      a.href = p.source_url;
      a.target = '_blank';
      a.rel = 'noopener';
      a.textContent = p[key];
      td.append(a);
    } else {
      td.textContent = String(p[key]);
    }
  }
  const root = document.createElement('div');
  root.className = 'popup';
  const h = document.createElement('h3');
  h.textContent = p.name || p.unit_name || title;
  root.append(h, table);
  return root;
}

// ---- country profiles (production table + occurrence counts) -----------------------------
let production = null;
const YEARS = ['y2018', 'y2019', 'y2020', 'y2021', 'y2022'];
const fmt = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });

function sparkBars(row) {
  const values = YEARS.map((y) => row[y]);
  const max = Math.max(...values.map((v) => v ?? 0), 1);
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', '70');
  svg.setAttribute('height', '22');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${row.commodity} 2018–2022: ${values.map((v) => (v == null ? 'n/a' : fmt.format(v))).join(', ')} ${row.unit}`);
  values.forEach((v, i) => {
    const h = v == null ? 0 : Math.max(1, (v / max) * 20);
    const rect = document.createElementNS(ns, 'rect');
    Object.entries({ x: i * 14, y: 22 - h, width: 11, height: h }).forEach(([k, val]) => rect.setAttribute(k, val));
    const title = document.createElementNS(ns, 'title');
    title.textContent = `${2018 + i}: ${v == null ? 'not available' : `${fmt.format(v)} ${row.unit}`}`;
    rect.append(title);
    svg.append(rect);
  });
  return svg;
}

async function showProfile(country) {
  const section = $('profile');
  const body = $('profile-body');
  section.hidden = false;
  $('profile-title').textContent = country.name;
  body.textContent = 'Loading…';
  $('panel').classList.add('open');
  $('panel').scrollTop = 0;
  try {
    production ??= (await getJson('/api/production')).rows;
    const occurrences = await getJson(`/api/collections/${OCCURRENCES}/items?iso_a3=${encodeURIComponent(country.iso_a3)}&limit=10000`);
    body.replaceChildren();
    const rows = production.filter((r) => r.iso3 === country.iso_a3)
      .sort((a, b) => (b.world_share_2022_pct ?? -1) - (a.world_share_2022_pct ?? -1));
    const heading = (text) => Object.assign(document.createElement('h3'), { textContent: text });
    if (rows.length) {
      body.append(heading('Mineral production 2018–2022'));
      const table = document.createElement('table');
      table.className = 'prod';
      table.createTHead().innerHTML = '<tr><th>Commodity</th><th>2018–2022</th><th class="share">World share 2022</th></tr>';
      const tbody = table.createTBody();
      for (const r of rows) {
        const tr = tbody.insertRow();
        const name = tr.insertCell();
        name.append(r.commodity, document.createElement('br'), Object.assign(document.createElement('span'), { className: 'unit', textContent: r.unit }));
        tr.insertCell().append(sparkBars(r));
        const share = tr.insertCell();
        share.className = 'share';
        share.textContent = r.world_share_2022_pct != null ? `${r.world_share_2022_pct} %` : (r.share_note ? `${r.share_note} %` : '—');
      }
      body.append(table, Object.assign(document.createElement('p'), { className: 'hint', textContent: 'Source: AMCAP-IV 2026–2030, Table 11 (USGS).' }));
    } else {
      body.append(Object.assign(document.createElement('p'), { textContent: 'No production statistics in the AMCAP-IV table for this country.' }));
    }
    const counts = new Map();
    for (const f of occurrences.features) {
      for (const c of (f.properties.commodities || '').split(', ').filter(Boolean)) counts.set(c, (counts.get(c) || 0) + 1);
    }
    body.append(heading(`${occurrences.numberMatched} mineral occurrences`));
    const list = document.createElement('ol');
    list.className = 'occ-counts';
    for (const [c, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
      list.append(Object.assign(document.createElement('li'), { textContent: `${c}: ${n}` }));
    }
    body.append(list);
  } catch (e) {
    body.textContent = `Could not load the profile: ${e.message}`;
  }
}

// ---- search -----------------------------------------------------------------------------
async function search(text) {
  const list = $('search-results');
  list.replaceChildren();
  if (!text.trim()) return;
  try {
    const fc = await getJson(`/api/collections/${OCCURRENCES}/items?q=${encodeURIComponent(text.trim())}&limit=10`);
    if (!fc.features.length) list.append(Object.assign(document.createElement('li'), { textContent: 'No occurrence found' }));
    for (const f of fc.features) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = `${f.properties.name ?? '(unnamed)'} — ${f.properties.country ?? ''}`;
      b.addEventListener('click', () => {
        map.flyTo({ center: f.geometry.coordinates, zoom: 10 });
        // The popup opens too, so keyboard users get the details without clicking the map.
        new maplibregl.Popup({ maxWidth: '320px' }).setLngLat(f.geometry.coordinates).setDOMContent(popupHtml(f, 'Occurrence')).addTo(map);
      });
      const li = document.createElement('li');
      li.append(b);
      list.append(li);
    }
  } catch (e) {
    list.append(Object.assign(document.createElement('li'), { textContent: `Search failed: ${e.message}` }));
  }
}

function gisUrls() {
  const visible = [...document.querySelectorAll('#layers input:checked')].map((b) => b.dataset.layer);
  const base = location.origin;
  const ids = visible.length ? visible.join(',') : OCCURRENCES;
  const rows = [
    ['TileJSON', `${base}/tiles/${ids}.json`],
    ['XYZ vector tiles', `${base}/tiles/${ids}/{z}/{x}/{y}.mvt`],
    ['OGC API – Features', `${base}/api`],
  ];
  $('gis-urls').replaceChildren(...rows.flatMap(([label, url]) => {
    const l = document.createElement('div');
    l.textContent = label;
    const c = document.createElement('code');
    c.textContent = url;
    return [l, c];
  }));
}

// ---- start --------------------------------------------------------------------------------
const initial = readHash();
const map = new maplibregl.Map({
  container: 'map',
  style: '/styles/default.json',
  center: initial?.center ?? [115, 5],
  zoom: initial?.zoom ?? 3.2,
  hash: false,
  attributionControl: { compact: false, customAttribution: 'AMIS WebGIS' },
  // Lets "share" and tests read back what is drawn; the cost is negligible for a 2D map.
  canvasContextAttributes: { preserveDrawingBuffer: true },
});
window.amisMap = map;
map.addControl(new maplibregl.NavigationControl(), 'top-right');
map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'top-left');

map.on('error', (e) => setStatus(`Map error: ${e.error?.message || e.error || 'unknown'}`, 'error'));
map.on('dataloading', () => setStatus('Loading…', 'busy'));
map.on('idle', () => { if ($('status').className === 'busy') setStatus(''); });
map.on('mousemove', (e) => { $('coords').textContent = `${e.lngLat.lat.toFixed(4)}°, ${e.lngLat.lng.toFixed(4)}°`; });
map.on('moveend', () => { writeHash(); updateCount(); updateDownloads(); });

map.on('load', async () => {
  buildLayerList();
  gisUrls();
  document.querySelectorAll('#layers input').forEach((b) => b.addEventListener('change', gisUrls));
  const clickable = map.getStyle().layers.filter((l) => l.metadata?.['amis:layer'] && ['circle', 'fill', 'line'].includes(l.type)).map((l) => l.id);
  map.on('click', (e) => {
    const hits = map.queryRenderedFeatures(e.point, { layers: clickable });
    if (!hits.length) {
      const country = map.queryRenderedFeatures(e.point, { layers: ['asean-countries'] })[0];
      if (country) showProfile(country.properties);
      return;
    }
    const layer = map.getLayer(hits[0].layer.id);
    new maplibregl.Popup({ maxWidth: '320px' }).setLngLat(e.lngLat).setDOMContent(popupHtml(hits[0], layer.metadata['amis:title'])).addTo(map);
  });
  for (const id of clickable) {
    map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
  }
  try {
    await fillFilterMenus();
  } catch (e) {
    setStatus(`Could not load filter values: ${e.message}`, 'error');
  }
  applyFilters();
});

$('f-commodity').addEventListener('change', (e) => { state.commodities = e.target.value ? [e.target.value] : []; applyFilters(); });
$('f-country').addEventListener('change', (e) => { state.country = e.target.value; applyFilters(); });
$('f-group').addEventListener('change', (e) => { state.group = e.target.value; applyFilters(); });
$('preset-critical').addEventListener('click', () => { state.commodities = [...critical]; applyFilters(); });
$('f-clear').addEventListener('click', () => { state.commodities = []; state.country = ''; state.group = ''; applyFilters(); });
$('search-form').addEventListener('submit', (e) => { e.preventDefault(); search($('search').value); });
$('share').addEventListener('click', async () => {
  writeHash();
  try { await navigator.clipboard.writeText(location.href); $('share').textContent = 'Link copied'; } catch { $('share').textContent = 'Copy the address bar'; }
});
$('profile-close').addEventListener('click', () => { $('profile').hidden = true; });
$('panel-toggle').addEventListener('click', () => {
  const open = $('panel').classList.toggle('open');
  $('panel-toggle').setAttribute('aria-expanded', String(open));
});
