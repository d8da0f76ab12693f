// AMIS WebGIS web map. Plain ES modules, no build step: MapLibre GL JS is vendored in
// /assets/vendor and everything else comes from this server's own API. Nothing here names a
// layer: the occurrence layers, their filters, legends and attributions come from the
// catalog (/api/collections), and what a commodity or a country is from /api/vocabulary,
// the same definitions the server's filters and the upload protocol use.
import * as maplibregl from './vendor/maplibre-gl/maplibre-gl.mjs';

const $ = (id) => document.getElementById(id);
const state = { commodities: [], country: '', group: '', hidden: new Set() };
/** The vocabulary (commodities, families, colour groups, countries, critical minerals). */
let vocab = null;
/** Occurrence layers of the catalog: { id, title, license, attribution, fields: Set }. */
let occurrenceLayers = [];
let catalogEtag = null;
const POLL_MS = (Number(new URLSearchParams(location.search).get('poll')) || 30) * 1000;

const plural = (n, one, many = `${one}s`) => `${Number(n).toLocaleString('en')} ${n === 1 ? one : many}`;
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

function setStatus(text, kind) {
  const status = $('status');
  status.textContent = text || '';
  status.className = text ? kind : '';
}

async function getJson(url, init) {
  const response = await fetch(url, init);
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).description || detail; } catch { /* not JSON */ }
    throw new Error(`${url}: ${response.status} ${detail}`);
  }
  return response.json();
}

const countryName = (code) => vocab?.countries.find((c) => c.iso3 === code)?.name ?? code;

/** What a commodity filter finds: the commodity and, for a family, its members. */
function familyMembers(name) {
  return [name, ...(vocab?.families?.[name] ?? [])];
}

/** `N° N, M° E`. */
function formatPosition(lng, lat) {
  return `${Math.abs(lat).toFixed(4)}° ${lat >= 0 ? 'N' : 'S'}, ${Math.abs(lng).toFixed(4)}° ${lng >= 0 ? 'E' : 'W'}`;
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
  history.replaceState(null, '', `${location.pathname}${location.search}#${params.toString().replaceAll('%2F', '/').replaceAll('%7C', '|').replaceAll('%2C', ',')}`);
}

// ---- filters: one definition for the map, the count and the downloads ---------------------
/** The MapLibre filter of one occurrence layer: a commodity matches a whole element of the
 *  `", "`-separated list (or a member of a family); a filter on a property the layer lacks
 *  matches nothing, as the API's does. */
function mapFilter(layer) {
  const parts = ['all', ['==', ['geometry-type'], 'Point']];
  if (state.commodities.length) {
    if (!layer.fields.has('commodities')) return ['==', 1, 0];
    const list = ['concat', ', ', ['coalesce', ['get', 'commodities'], ''], ', '];
    const names = [...new Set(state.commodities.flatMap(familyMembers))];
    parts.push(['any', ...names.map((c) => ['in', `, ${c}, `, list])]);
  }
  if (state.country) {
    if (!layer.fields.has('country')) return ['==', 1, 0];
    parts.push(['==', ['get', 'country'], state.country]);
  }
  if (state.group) {
    if (!layer.fields.has('deposit_group')) return ['==', 1, 0];
    parts.push(['==', ['get', 'deposit_group'], state.group]);
  }
  // Unfiltered, the style's own filter: MapLibre skips a filter equal to the current one, so
  // the first tiles are not laid out twice.
  return parts.length === 2 ? parts[1] : parts;
}

/** The same filter as API parameters; `null` when the layer cannot match it. */
function apiFilter(layer) {
  const params = new URLSearchParams();
  if (state.commodities.length && !layer.fields.has('commodities')) return null;
  if (state.country && !layer.fields.has('country')) return null;
  if (state.group && !layer.fields.has('deposit_group')) return null;
  for (const c of state.commodities) params.append('commodities', c);
  if (state.country) params.set('country', state.country);
  if (state.group) params.set('deposit_group', state.group);
  return params;
}

function viewBbox() {
  const b = map.getBounds();
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const wraps = b.getWest() < -180 || b.getEast() > 180;
  const west = wraps ? -180 : b.getWest();
  const east = wraps ? 180 : b.getEast();
  return [west, clamp(b.getSouth(), -90, 90), east, clamp(b.getNorth(), -90, 90)].map((v) => v.toFixed(5)).join(',');
}

function itemsUrl(layer, extra) {
  const params = apiFilter(layer);
  if (!params) return null;
  params.set('bbox', viewBbox());
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return `/api/collections/${encodeURIComponent(layer.id)}/items?${params}`;
}

const visibleOccurrenceLayers = () => occurrenceLayers.filter((l) => !state.hidden.has(l.id));

let countRequest = 0;
async function updateCount() {
  const mine = ++countRequest;
  $('count').textContent = 'Counting…';
  try {
    const counts = await Promise.all(visibleOccurrenceLayers().map(async (layer) => {
      const url = itemsUrl(layer, { limit: 1 });
      return url ? (await getJson(url)).numberMatched : 0;
    }));
    if (mine !== countRequest) return;
    const total = counts.reduce((a, b) => a + b, 0);
    const filtered = state.commodities.length || state.country || state.group;
    $('count').textContent = `${plural(total, 'occurrence')} ${filtered ? (total === 1 ? 'matches the filter ' : 'match the filter ') : ''}in view`;
    $('count').dataset.count = String(total);
  } catch (e) {
    if (mine === countRequest) $('count').textContent = `Could not count occurrences: ${e.message}`;
  }
}

function updateDownloads() {
  const formats = [['GeoJSON', { f: 'json', limit: 10000 }, 'geojson'], ['CSV', { f: 'csv' }, 'csv'], ['FlatGeobuf', { f: 'fgb' }, 'fgb']];
  $('downloads').replaceChildren(...visibleOccurrenceLayers().map((layer) => {
    const links = formats.map(([label, extra, ext]) => {
      const href = itemsUrl(layer, extra);
      return href
        ? el('a', { href, download: `${layer.id}.${ext}`, textContent: label, className: `download-${extra.f}` })
        : el('span', { textContent: label, className: 'disabled' });
    });
    const row = el('li', {}, el('span', { className: 'title', textContent: `${layer.title}: ` }), ...links);
    row.dataset.layer = layer.id;
    return row;
  }));
}

function applyFilters() {
  for (const layer of map.getStyle().layers) {
    const id = layer.metadata?.['amis:layer'];
    const occ = occurrenceLayers.find((l) => l.id === id);
    if (occ && (layer.type === 'circle' || layer.type === 'symbol')) map.setFilter(layer.id, mapFilter(occ));
  }
  $('f-commodity').value = state.commodities.length === 1 ? state.commodities[0] : '';
  $('f-country').value = state.country;
  $('f-group').value = state.group;
  $('preset-critical').setAttribute('aria-pressed', String(isCriticalPreset()));
  updateCount();
  updateDownloads();
  writeHash();
}

const isCriticalPreset = () => vocab
  && state.commodities.length === vocab.criticalMinerals.commodities.length
  && vocab.criticalMinerals.commodities.every((c) => state.commodities.includes(c));

/** Commodity, country and deposit-group menus from what the occurrence layers hold. */
const fetchQueryables = () => Promise.all(occurrenceLayers.map((l) => getJson(`/api/collections/${encodeURIComponent(l.id)}/queryables`)));

/** Fills the filter menus with the values the occurrence layers hold. */
async function fillFilterMenus(pending = fetchQueryables()) {
  const queryables = await pending;
  const union = (name) => new Set(queryables.flatMap((q) => q.properties[name]?.enum ?? []));
  const present = union('commodities');
  for (const name of union('primary_commodity')) present.add(name);
  const commodity = $('f-commodity');
  commodity.replaceChildren(new Option('All commodities', ''));
  for (const group of vocab.colourGroups) {
    const names = group.commodities.filter((c) => present.has(c) || vocab.families[c]?.some((m) => present.has(m)));
    if (!names.length) continue;
    const optgroup = el('optgroup', { label: group.label });
    for (const name of [...names].sort()) {
      const family = vocab.families[name];
      optgroup.append(new Option(family ? `${name} (any of ${family.length})` : name, name));
    }
    commodity.append(optgroup);
  }
  // Commodities in no list: published as the agency wrote them, drawn as "Other commodities".
  const listed = new Set(vocab.colourGroups.flatMap((g) => g.commodities));
  const others = [...present].filter((c) => !listed.has(c)).sort();
  if (others.length) {
    const optgroup = el('optgroup', { label: vocab.otherCommodities.label });
    for (const name of others) optgroup.append(new Option(name, name));
    commodity.append(optgroup);
  }
  const country = $('f-country');
  country.replaceChildren(new Option('All countries', ''));
  const codes = union('country');
  for (const c of vocab.countries.filter((c) => codes.has(c.iso3))) country.append(new Option(c.name, c.iso3));
  const group = $('f-group');
  group.replaceChildren(new Option('All deposit groups', ''));
  for (const g of [...union('deposit_group')].sort()) group.append(new Option(g, g));
}

// ---- layers, legends, attributions --------------------------------------------------------
function buildLayerList() {
  const groups = new Map();
  for (const layer of map.getStyle().layers) {
    const id = layer.metadata?.['amis:layer'];
    if (!id) continue;
    if (!groups.has(id)) groups.set(id, { meta: layer.metadata, styleIds: [] });
    groups.get(id).styleIds.push(layer.id);
  }
  $('layers').replaceChildren(...[...groups].map(([id, g]) => {
    const box = el('input', { type: 'checkbox', checked: !state.hidden.has(id) });
    box.dataset.layer = id;
    const legend = el('ul', { className: 'legend', hidden: !box.checked });
    box.addEventListener('change', () => {
      if (box.checked) state.hidden.delete(id); else state.hidden.add(id);
      setVisibility(id, g.styleIds);
      legend.hidden = !box.checked;
      gisUrls();
      updateCount();
      updateDownloads();
      writeHash();
    });
    for (const entry of g.meta['amis:legend'] || []) {
      legend.append(el('li', {}, el('span', { className: 'swatch', style: `background:${entry.color}` }), entry.label));
    }
    const credits = [g.meta['amis:source'], g.meta['amis:license'] && `Licence: ${g.meta['amis:license']}`].filter(Boolean).join('. ');
    const li = el('li', {}, el('label', {}, box, ` ${g.meta['amis:title']}`), legend);
    if (credits) li.append(el('p', { className: 'credit', textContent: credits }));
    setVisibility(id, g.styleIds);
    return li;
  }));
}

function setVisibility(id, styleIds) {
  for (const sid of styleIds) map.setLayoutProperty(sid, 'visibility', state.hidden.has(id) ? 'none' : 'visible');
}

// ---- popups -----------------------------------------------------------------------------
const LABELS = {
  commodities: 'Commodities', primary_commodity: 'Primary commodity', status: 'Status', deposit_type: 'Deposit type',
  deposit_group: 'Deposit group', minerals: 'Minerals', country: 'Country', state_province: 'Province',
  country_as_recorded: 'Country as recorded', slip_type: 'Slip type', lithology: 'Lithology', age: 'Age',
  unit_name: 'Unit', source: 'Source', source_dataset: 'Source', reference: 'Reference', license: 'Licence',
};
const HIDDEN = new Set(['name', 'iso_a3', 'id', 'source_url', 'source_record_id', 'point_count']);
const DATASETS = {
  mrdata_major_deposits: 'USGS Major mineral deposits of the world', mrdata_nicrpge: 'USGS Ni-Cr-PGE deposits',
  mrdata_porcu: 'USGS Porphyry copper deposits', mrdata_podchrome: 'USGS Podiform chromite deposits',
  mrdata_phosphate: 'USGS Phosphate deposits', mrdata_potash: 'USGS Potash deposits', mrdata_ree: 'USGS Rare earth element deposits',
  mrdata_laterite: 'USGS Nickel laterite deposits', mrdata_vms: 'USGS Volcanogenic massive sulfide deposits',
  mrdata_sedau: 'USGS Sediment-hosted gold deposits', mrdata_sedcu: 'USGS Sediment-hosted copper deposits',
  mrdata_sedznpb: 'USGS Sediment-hosted zinc-lead deposits', mrdata_sedexmvt: 'USGS SEDEX and MVT deposits',
  world_tin_tungsten_deposit: 'GSC World tin and tungsten deposits',
};
const label = (key) => LABELS[key] ?? key.replaceAll('_', ' ').replace(/^./, (c) => c.toUpperCase());
const filled = (v) => v !== undefined && v !== null && String(v).trim() !== '';
/** A link target only for http(s) URLs: anything else (javascript:, data:) stays text. */
function safeUrl(text) {
  try {
    const url = new URL(String(text));
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch { return null; }
}

function popupContent(properties, title) {
  const p = properties;
  const table = el('table');
  const keys = Object.keys(p).filter((k) => !HIDDEN.has(k) && filled(p[k]));
  if (filled(p.source_dataset)) keys.splice(keys.indexOf('source_dataset'), 1);
  for (const key of keys) {
    const value = key === 'country' ? countryName(p[key]) : String(p[key]);
    table.insertRow().append(el('th', { textContent: label(key) }), el('td', { textContent: value }));
  }
  if (filled(p.source_dataset) || filled(p.source_url)) {
    const name = DATASETS[p.source_dataset] ?? (filled(p.source_dataset) ? label(String(p.source_dataset)) : 'Source');
    const href = filled(p.source_url) ? safeUrl(p.source_url) : null;
    const cell = href ? el('a', { href, target: '_blank', rel: 'noopener noreferrer', textContent: name }) : el('span', { textContent: name });
    table.insertRow().append(el('th', { textContent: 'Source' }), el('td', {}, cell));
  }
  const heading = el('h3', { textContent: filled(p.name) ? p.name : (filled(p.unit_name) ? p.unit_name : title) });
  return el('div', { className: 'popup' }, heading, table);
}

// ---- country profiles (production table + occurrence counts of every layer) --------------
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
    const tip = document.createElementNS(ns, 'title');
    tip.textContent = `${2018 + i}: ${v == null ? 'not available' : `${fmt.format(v)} ${row.unit}`}`;
    rect.append(tip);
    svg.append(rect);
  });
  return svg;
}

async function showProfile(country) {
  const section = $('profile');
  const body = $('profile-body');
  section.hidden = false;
  $('profile-title').textContent = countryName(country.iso_a3) || country.name;
  body.textContent = 'Loading…';
  openPanel(true);
  $('panel').scrollTop = 0;
  try {
    production ??= (await getJson('/api/production')).rows;
    const pages = await Promise.all(occurrenceLayers.filter((l) => l.fields.has('country')).map((l) =>
      getJson(`/api/collections/${encodeURIComponent(l.id)}/items?country=${encodeURIComponent(country.iso_a3)}&limit=10000`)));
    body.replaceChildren();
    const rows = production.filter((r) => r.iso3 === country.iso_a3)
      .sort((a, b) => (b.world_share_2022_pct ?? -1) - (a.world_share_2022_pct ?? -1));
    const heading = (text) => el('h3', { textContent: text });
    if (rows.length) {
      body.append(heading('Mineral production 2018–2022'));
      const table = el('table', { className: 'prod' });
      const head = table.createTHead().insertRow();
      for (const [text, cls] of [['Commodity', ''], ['2018–2022', ''], ['World share 2022', 'share']]) head.append(el('th', { textContent: text, className: cls }));
      const tbody = table.createTBody();
      for (const r of rows) {
        const tr = tbody.insertRow();
        tr.insertCell().append(r.commodity, el('br'), el('span', { className: 'unit', textContent: r.unit }));
        tr.insertCell().append(sparkBars(r));
        const share = tr.insertCell();
        share.className = 'share';
        share.textContent = r.world_share_2022_pct != null ? `${r.world_share_2022_pct} %` : (r.share_note ? `${r.share_note} %` : '—');
      }
      body.append(table, el('p', { className: 'hint', textContent: 'Source: AMCAP-IV 2026–2030, Table 11 (USGS).' }));
    } else {
      body.append(el('p', { textContent: 'No production statistics in the AMCAP-IV table for this country.' }));
    }
    const counts = new Map();
    let total = 0;
    for (const page of pages) {
      total += page.numberMatched;
      for (const f of page.features) {
        for (const c of (f.properties.commodities || '').split(', ').filter(Boolean)) counts.set(c, (counts.get(c) || 0) + 1);
      }
    }
    body.append(heading(plural(total, 'mineral occurrence')));
    const list = el('ol', { className: 'occ-counts' });
    for (const [c, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 10)) list.append(el('li', { textContent: `${c}: ${n}` }));
    body.append(list);
  } catch (e) {
    body.textContent = `Could not load the profile: ${e.message}`;
  }
}

// ---- search (every occurrence layer, ranked by the server) -------------------------------
async function search(text) {
  const list = $('search-results');
  list.replaceChildren();
  if (!text.trim()) return;
  try {
    const fc = await getJson(`/api/search?q=${encodeURIComponent(text.trim())}&limit=10`);
    if (!fc.features.length) list.append(el('li', { textContent: 'No occurrence found' }));
    for (const f of fc.features) {
      const layer = occurrenceLayers.find((l) => l.id === f.collection);
      const where = [countryName(f.properties.country), occurrenceLayers.length > 1 ? layer?.title : null].filter(filled).join(' · ');
      const button = el('button', { type: 'button', textContent: `${filled(f.properties.name) ? f.properties.name : '(unnamed)'}${where ? ` — ${where}` : ''}` });
      button.addEventListener('click', () => {
        map.flyTo({ center: f.geometry.coordinates, zoom: 10 });
        // The popup opens too, so keyboard users get the details without clicking the map.
        new maplibregl.Popup({ maxWidth: '320px' }).setLngLat(f.geometry.coordinates)
          .setDOMContent(popupContent(f.properties, layer?.title ?? 'Occurrence')).addTo(map);
      });
      list.append(el('li', {}, button));
    }
  } catch (e) {
    list.append(el('li', { textContent: `Search failed: ${e.message}` }));
  }
}

function gisUrls() {
  const visible = [...document.querySelectorAll('#layers input:checked')].map((b) => b.dataset.layer);
  const base = location.origin;
  const ids = (visible.length ? visible : occurrenceLayers.map((l) => l.id)).join(',');
  const rows = [
    ['TileJSON', `${base}/tiles/${ids}.json`],
    ['XYZ vector tiles', `${base}/tiles/${ids}/{z}/{x}/{y}.mvt`],
    ['OGC API – Features', `${base}/api`],
    ['Style for QGIS', `${base}/styles/qgis.json`],
  ];
  $('gis-urls').replaceChildren(...rows.flatMap(([text, url]) => [el('div', { textContent: text }), el('code', { textContent: url })]));
}

// ---- the catalog, and keeping up with it -----------------------------------------------------
async function loadCatalog() {
  // The browser revalidates its copy with the ETag (a 304 costs the server a hash); an
  // unchanged ETag means nothing was published or retired.
  const response = await fetch('/api/collections', { cache: 'no-cache' });
  if (!response.ok) throw new Error(`/api/collections: ${response.status}`);
  const etag = response.headers.get('ETag');
  if (etag && etag === catalogEtag) return false;
  catalogEtag = etag;
  const doc = await response.json();
  occurrenceLayers = doc.collections.filter((c) => c.kind === 'occurrences').map((c) => ({
    id: c.id, title: c.title, license: c.license, attribution: c.attribution, fields: new Set(c.properties.map((p) => p.name)),
  }));
  return true;
}

/** After the catalog changed (an agency published): the style, menus and counts follow. */
async function refreshFromCatalog() {
  try {
    if (!(await loadCatalog())) return;
    map.setStyle('/styles/default.json', { diff: true });
    map.once('styledata', async () => {
      buildLayerList();
      bindLayerEvents();
      gisUrls();
      await fillFilterMenus();
      applyFilters();
    });
  } catch (e) {
    setStatus(`Could not refresh the catalog: ${e.message}`, 'error');
  }
}

// ---- start --------------------------------------------------------------------------------
const initial = readHash();
const map = new maplibregl.Map({
  container: 'map',
  style: '/styles/default.json',
  center: initial?.center ?? [115, 5],
  zoom: initial?.zoom ?? 3.2,
  minZoom: 2,
  // The basemap's detailed outlines are whole countries in this box, so no edge shows.
  maxBounds: [[55, -40], [185, 50]],
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
map.on('mousemove', (e) => { $('coords').textContent = formatPosition(e.lngLat.lng, e.lngLat.lat); });
map.on('moveend', () => { writeHash(); updateCount(); updateDownloads(); });

let clickable = [];
function bindLayerEvents() {
  clickable = map.getStyle().layers.filter((l) => l.metadata?.['amis:layer'] && ['circle', 'fill', 'line'].includes(l.type)).map((l) => l.id);
}
map.on('mousemove', (e) => {
  const over = clickable.length && map.queryRenderedFeatures(e.point, { layers: clickable }).length > 0;
  map.getCanvas().style.cursor = over ? 'pointer' : '';
});
map.on('click', (e) => {
  const hits = clickable.length ? map.queryRenderedFeatures(e.point, { layers: clickable }) : [];
  if (!hits.length) {
    const country = map.queryRenderedFeatures(e.point, { layers: ['asean-countries'] })[0];
    if (country) showProfile(country.properties);
    return;
  }
  const layer = map.getLayer(hits[0].layer.id);
  new maplibregl.Popup({ maxWidth: '320px' }).setLngLat(e.lngLat).setDOMContent(popupContent(hits[0].properties, layer.metadata['amis:title'])).addTo(map);
});

// The vocabulary and the catalog are asked for at once, while MapLibre loads the style and
// tiles, and the app is set up as soon as the style is there, so filters and hidden layers
// apply before the first tiles are laid out rather than after they are drawn.
const vocabulary = getJson('/api/vocabulary');
const catalog = loadCatalog();
const firstQueryables = catalog.then(fetchQueryables);
map.once('style.load', async () => {
  try {
    [vocab] = await Promise.all([vocabulary, catalog]);
    // Links made before countries were codes name them: `country=Philippines` still works.
    const wanted = state.country.toLowerCase();
    const match = vocab.countries.find((c) => [c.iso3, c.iso2, c.name].some((v) => v.toLowerCase() === wanted));
    if (match) state.country = match.iso3;
    const critical = vocab.criticalMinerals;
    $('preset-critical').textContent = 'Critical minerals (IEA 2024)';
    $('critical-source').replaceChildren(
      `${critical.commodities.join(', ')}: the key energy transition minerals of the `,
      el('a', { href: critical.url, target: '_blank', rel: 'noopener noreferrer', textContent: 'IEA Global Critical Minerals Outlook 2024' }),
      ', which AMCAP-IV cites. Rare earth elements include the 17 elements.',
    );
    buildLayerList();
    bindLayerEvents();
    gisUrls();
    await fillFilterMenus(firstQueryables);
  } catch (e) {
    setStatus(`Could not load the catalog: ${e.message}`, 'error');
  }
  applyFilters();
  setInterval(refreshFromCatalog, POLL_MS);
});

function openPanel(open) {
  $('panel').classList.toggle('open', open);
  $('panel-toggle').setAttribute('aria-expanded', String(open));
}

$('f-commodity').addEventListener('change', (e) => { state.commodities = e.target.value ? [e.target.value] : []; applyFilters(); });
$('f-country').addEventListener('change', (e) => { state.country = e.target.value; applyFilters(); });
$('f-group').addEventListener('change', (e) => { state.group = e.target.value; applyFilters(); });
$('preset-critical').addEventListener('click', () => { state.commodities = [...(vocab?.criticalMinerals.commodities ?? [])]; applyFilters(); });
$('f-clear').addEventListener('click', () => { state.commodities = []; state.country = ''; state.group = ''; applyFilters(); });
$('search-form').addEventListener('submit', (e) => { e.preventDefault(); search($('search').value); });
$('share').addEventListener('click', async () => {
  writeHash();
  try { await navigator.clipboard.writeText(location.href); $('share').textContent = 'Link copied'; } catch { $('share').textContent = 'Copy the address bar'; }
});
$('profile-close').addEventListener('click', () => { $('profile').hidden = true; });
$('panel-toggle').addEventListener('click', () => openPanel(!$('panel').classList.contains('open')));
