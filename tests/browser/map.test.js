// Real-browser tests of the web map: headless Debian chromium driven by playwright-core,
// against the release server that scripts/browser-tests.sh starts (BASE_URL).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const BASE = process.env.BASE_URL;
const ARTIFACTS = process.env.ARTIFACTS || 'artifacts';
mkdirSync(ARTIFACTS, { recursive: true });
let browser;

before(async () => {
  assert.ok(BASE, 'BASE_URL must point at a running server');
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
});

after(async () => { await browser?.close(); });

/** Opens the app and waits for the map to be idle; collects console errors and failed requests. */
async function open(path = '/', prepare = () => {}) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  prepare(page);
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // MapLibre cancels the tiles it no longer needs when the view moves: ERR_ABORTED is not a failure.
  page.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  const started = Date.now();
  await page.goto(BASE + path);
  await page.waitForFunction(() => window.amisMap && window.amisMap.loaded() && !window.amisMap.isMoving()
    && document.querySelectorAll('#layers input').length > 0, null, { timeout: 30000 });
  await waitIdle(page);
  return { page, problems, idleMs: Date.now() - started };
}

async function waitIdle(page) {
  await page.evaluate(() => new Promise((resolve) => {
    const map = window.amisMap;
    if (map.loaded() && map.areTilesLoaded()) resolve(); else map.once('idle', resolve);
  }));
}

/** Number of distinct colours in the map canvas: a blank map has one or two. */
async function distinctColours(page) {
  return page.evaluate(() => {
    const src = window.amisMap.getCanvas();
    const c = document.createElement('canvas');
    c.width = 200; c.height = 150;
    const ctx = c.getContext('2d');
    ctx.drawImage(src, 0, 0, c.width, c.height);
    const data = ctx.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < data.length; i += 4) seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
    return seen.size;
  });
}

const renderedOccurrences = (page) => page.evaluate(() =>
  window.amisMap.queryRenderedFeatures({ layers: ['mineral-occurrences-points'] }).length);

test('the map loads cleanly and draws something', async () => {
  const tileSizes = [];
  const { page, problems, idleMs } = await open('/', (p) => p.on('response', async (r) => {
    if (r.url().endsWith('.mvt') && r.status() === 200) tileSizes.push([(await r.body()).length, r.url()]);
  }));
  tileSizes.sort((a, b) => b[0] - a[0]);
  console.log(`time to map idle (cold cache): ${idleMs} ms; ${tileSizes.length} tiles, largest ${tileSizes[0]?.[0]} bytes (${tileSizes[0]?.[1]})`);
  assert.deepEqual(problems, []);
  assert.ok(tileSizes[0][0] < 100 * 1024, `the largest tile of the default view is ${tileSizes[0][0]} bytes`);
  assert.ok(await distinctColours(page) > 20, 'canvas is not blank');
  assert.ok(await renderedOccurrences(page) > 100, 'occurrences are drawn');
  const legend = await page.locator('#layers').innerText();
  assert.match(legend, /Battery & technology metals/);
  assert.match(legend, /Licence: Public domain \(USGS\)/);
  const attribution = await page.locator('.maplibregl-ctrl-attrib').innerText();
  assert.match(attribution, /GEM/);
  assert.match(attribution, /Natural Earth/);
  // Labels draw above the points.
  const order = await page.evaluate(() => window.amisMap.getStyle().layers.map((l) => l.id));
  assert.ok(order.indexOf('mineral-occurrences-points') < order.indexOf('places'));
  assert.ok(order.indexOf('mineral-occurrences-points') < order.indexOf('country-names'));
  await page.screenshot({ path: `${ARTIFACTS}/map-default.png` });
  await page.close();
});

test('clicking a known occurrence opens a popup with its name', async () => {
  const { page } = await open();
  const target = await page.evaluate(async () => {
    const fc = await (await fetch('/api/search?q=Grasberg&limit=1')).json();
    return { name: fc.features[0].properties.name, coords: fc.features[0].geometry.coordinates };
  });
  await page.evaluate((c) => window.amisMap.jumpTo({ center: c, zoom: 13 }), target.coords);
  await waitIdle(page);
  const point = await page.evaluate((c) => {
    const p = window.amisMap.project(c);
    const r = window.amisMap.getCanvas().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, target.coords);
  await page.mouse.click(point.x, point.y);
  const popup = page.locator('.maplibregl-popup-content');
  await popup.waitFor({ timeout: 5000 });
  assert.match(await popup.innerText(), new RegExp(target.name));
  await page.screenshot({ path: `${ARTIFACTS}/map-popup.png` });
  await page.close();
});

test('a commodity filter changes the count and the rendered points', async () => {
  const { page } = await open();
  await page.waitForFunction(() => /in view/.test(document.getElementById('count').textContent));
  const before = await page.locator('#count').innerText();
  const drawnBefore = await renderedOccurrences(page);
  await page.selectOption('#f-commodity', 'Nickel');
  await page.waitForFunction((b) => { const t = document.getElementById('count').textContent; return t !== b && /in view/.test(t); }, before);
  await waitIdle(page);
  const after = await page.locator('#count').innerText();
  const drawnAfter = await renderedOccurrences(page);
  const number = (t) => Number(t.match(/\d+/)[0]);
  assert.ok(number(after) < number(before), `${after} < ${before}`);
  assert.ok(drawnAfter < drawnBefore && drawnAfter > 0, `${drawnAfter} < ${drawnBefore}`);
  const nickelOnly = await page.evaluate(() => window.amisMap
    .queryRenderedFeatures({ layers: ['mineral-occurrences-points'] })
    .every((f) => f.properties.commodities.split(', ').includes('Nickel')));
  assert.ok(nickelOnly);
  assert.match(page.url(), /commodity=Nickel/);
  await page.click('#preset-critical');
  await page.screenshot({ path: `${ARTIFACTS}/map-critical-minerals.png` });
  await page.close();
});

test('a shared URL restores the view, layers and filters', async () => {
  const { page, problems } = await open('/#map=7.00/7.5000/125.0000&country=Philippines&hide=active-faults');
  assert.deepEqual(problems, []);
  const view = await page.evaluate(() => ({ zoom: window.amisMap.getZoom(), center: window.amisMap.getCenter() }));
  assert.ok(Math.abs(view.zoom - 7) < 0.01);
  assert.ok(Math.abs(view.center.lat - 7.5) < 0.01 && Math.abs(view.center.lng - 125) < 0.01);
  // A link made when countries were names still works: the filter holds the ISO code.
  assert.equal(await page.inputValue('#f-country'), 'PHL');
  assert.equal(await page.isChecked('#layers input[data-layer="active-faults"]'), false);
  const countries = await page.evaluate(() => [...new Set(window.amisMap
    .queryRenderedFeatures({ layers: ['mineral-occurrences-points'] }).map((f) => f.properties.country))]);
  assert.deepEqual(countries, ['PHL']);
  await page.close();
});

test('download in view returns valid GeoJSON for the view', async () => {
  const { page } = await open('/#map=6.00/12.0000/122.0000');
  const href = await page.getAttribute('#downloads li[data-layer="mineral-occurrences"] .download-json', 'href');
  const result = await page.evaluate(async (url) => {
    const response = await fetch(url);
    const b = window.amisMap.getBounds();
    const fc = await response.json();
    return {
      type: fc.type, status: response.status, count: fc.features.length, matched: fc.numberMatched,
      inView: fc.features.every((f) => b.contains(f.geometry.coordinates)),
    };
  }, href);
  assert.equal(result.status, 200);
  assert.equal(result.type, 'FeatureCollection');
  assert.ok(result.count > 0 && result.count === result.matched);
  assert.ok(result.inView);
  await page.close();
});

/** Waits (up to 5 s, then fails) for the panel toggle to say it is expanded or not. */
const expanded = (page, value) => page.waitForFunction(
  (v) => document.querySelector('#panel-toggle')?.getAttribute('aria-expanded') === v, value, { timeout: 5000 });

test('the layout works on a phone', async () => {
  const page = await browser.newPage({ viewport: { width: 390, height: 800 }, isMobile: true, hasTouch: true });
  await page.goto(BASE + '/');
  await page.waitForFunction(() => window.amisMap && window.amisMap.loaded(), null, { timeout: 30000 });
  const toggle = page.locator('#panel-toggle');
  assert.ok(await toggle.isVisible());
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  await toggle.click();
  await expanded(page, 'true');
  assert.ok(await page.isVisible('#f-commodity'));
  await page.screenshot({ path: `${ARTIFACTS}/map-phone-panel.png` });
  await toggle.click();
  await expanded(page, 'false');
  // Nothing covers the attribution: the cursor readout has no cursor to follow here.
  assert.equal(await page.isVisible('#coords'), false);
  // The closing panel slides away: wait (up to 5 s) for nothing to cover the attribution.
  const coverOfAttribution = () => {
    const { x, y, width, height } = document.querySelector('.maplibregl-ctrl-attrib').getBoundingClientRect();
    const hit = document.elementFromPoint(x + width / 2, y + height / 2);
    return hit?.closest('.maplibregl-ctrl-attrib') ? null : (hit?.id || hit?.className || hit?.tagName || 'nothing');
  };
  const settled = await page.waitForFunction(`(${coverOfAttribution})() === null`, null, { timeout: 5000 })
    .then(() => true, () => false);
  assert.ok(settled, `the attribution is covered by ${await page.evaluate(coverOfAttribution)}`);
  await page.screenshot({ path: `${ARTIFACTS}/map-phone.png` });
  await page.close();
});

test('clicking a country opens its profile with production and occurrences', async () => {
  const { page, problems } = await open('/#map=5.00/-2.0000/114.0000');
  // Central Borneo and nearby: the first spot without an occurrence under the cursor.
  for (const [lng, lat] of [[113.2, -1.2], [112.2, 0.3], [114.8, -0.4], [111.5, -1.6]]) {
    const point = await page.evaluate((c) => {
      const p = window.amisMap.project(c);
      const r = window.amisMap.getCanvas().getBoundingClientRect();
      return { x: r.left + p.x, y: r.top + p.y };
    }, [lng, lat]);
    await page.mouse.click(point.x, point.y);
    if (await page.isVisible('#profile')) break;
  }
  await page.waitForFunction(() => /occurrences/.test(document.getElementById('profile-body').textContent));
  assert.equal(await page.locator('#profile-title').innerText(), 'Indonesia');
  const text = await page.locator('#profile-body').innerText();
  assert.match(text, /Nickel/);
  assert.match(text, /World share 2022/);
  assert.match(text, /107 mineral occurrences/);
  assert.ok(await page.locator('#profile svg rect').count() >= 5, 'production charts are drawn');
  assert.deepEqual(problems, []);
  await page.screenshot({ path: `${ARTIFACTS}/map-country-profile.png` });
  await page.close();
});

test('search forgives case, accents and spacing, flies to the result and opens its popup, by keyboard', async () => {
  const { page } = await open();
  const target = await page.evaluate(async () => (await (await fetch('/api/search?q=Nui%20Phao&limit=1')).json()).features[0]);
  await page.focus('#search');
  await page.keyboard.type('  NÚI   pháo ');
  await page.keyboard.press('Enter');
  const result = page.locator('#search-results button').first();
  await result.waitFor();
  assert.match(await result.innerText(), /Nui Phao — Viet Nam/);
  await result.focus();
  await page.keyboard.press('Enter');
  const popup = page.locator('.maplibregl-popup-content');
  await popup.waitFor();
  const text = await popup.innerText();
  assert.match(text, /Nui Phao/);
  assert.match(text, /Country\s+Viet Nam/);
  assert.doesNotMatch(text, /null/, 'fields without a value are not shown');
  await page.waitForFunction(() => !window.amisMap.isMoving() && window.amisMap.getZoom() > 9.9);
  const c = await page.evaluate(() => window.amisMap.getCenter());
  const [lng, lat] = target.geometry.coordinates;
  assert.ok(Math.abs(c.lng - lng) < 0.01 && Math.abs(c.lat - lat) < 0.01);
  // There is context around the result: towns, and the occurrence's name on the map.
  const labels = await page.evaluate(() => window.amisMap.queryRenderedFeatures()
    .filter((f) => f.layer.type === 'symbol').map((f) => f.properties.name));
  assert.ok(labels.includes('Nui Phao'), `labels: ${labels}`);
  await page.screenshot({ path: `${ARTIFACTS}/map-search-z10.png` });
  await page.close();
});

test('an agency uploads a layer from the upload page, and a bad file shows its report', async () => {
  assert.ok(process.env.UPLOAD_TOKEN, 'the script provides a token');
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`${BASE}/upload`);
  const examples = new URL('../../docs/examples/', import.meta.url).pathname;
  await page.fill('#token', process.env.UPLOAD_TOKEN);
  await page.fill('#layer', 'test-occurrences');
  await page.selectOption('#kind', 'occurrences');
  await page.fill('#title', 'Browser test occurrences');
  await page.setInputFiles('#file', `${examples}occurrences.geojson`);
  await page.click('#publish');
  await page.waitForSelector('#result.ok');
  assert.match(await page.innerText('#result'), /Published test-occurrences, version 1, as occurrences: 2 features/);
  const collection = await page.evaluate(async () => (await fetch('/api/collections/test-occurrences')).json());
  assert.equal(collection.title, 'Browser test occurrences');

  // Check first: the report, and nothing published.
  await page.setInputFiles('#file', `${examples}geology.geojson`);
  await page.click('#check');
  await page.waitForSelector('#result.error');
  assert.match(await page.innerText('#result'), /It would be refused; nothing was published/);
  await page.click('#publish');
  await page.waitForFunction(() => /422/.test(document.getElementById('result').textContent));
  const report = await page.innerText('#result');
  assert.match(report, /geometry must be a Point/);
  assert.deepEqual(problems, []);
  await page.screenshot({ path: `${ARTIFACTS}/upload-report.png` });
  await page.close();
});

test('any query string on / and /upload still shows the page', async () => {
  const { page, problems } = await open('/?utm_source=newsletter&fbclid=IwAR0abc#map=4.00/5.0000/115.0000');
  assert.deepEqual(problems, []);
  assert.ok(await renderedOccurrences(page) > 50);
  const upload = await page.goto(`${BASE}/upload?utm_source=x`);
  assert.equal(upload.status(), 200);
  assert.ok(await page.isVisible('#upload-form'));
  await page.close();
});

/** Every occurrence drawn in view, once each (a point near a tile edge is in two tiles). */
async function drawnOccurrences(page) {
  return page.evaluate(() => {
    const ids = new Set();
    for (const f of window.amisMap.queryRenderedFeatures()) {
      if (f.layer.type === 'circle' && f.layer.metadata?.['amis:kind'] === 'occurrences') ids.add(`${f.sourceLayer}/${f.id}`);
    }
    return ids.size;
  });
}

/** The features of every occurrence layer's GeoJSON download link for the view. */
async function downloaded(page) {
  const hrefs = await page.$$eval('#downloads .download-json', (links) => links.map((a) => a.href));
  return page.evaluate(async (urls) => {
    let n = 0;
    for (const url of urls) n += (await (await fetch(url)).json()).features.length;
    return n;
  }, hrefs);
}

test('an uploaded occurrence layer takes part in filters, count, search, downloads and profiles, without a reload', async () => {
  const { page, problems } = await open('/?poll=2');
  const layerCountBefore = await page.locator('#layers input').count();
  const file = {
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', properties: { name: 'Test Nickel Site Surigao', commodities: 'Ni;Co', country: 'Philippines', source: 'Browser test', source_url: 'javascript:alert(document.cookie)' }, geometry: { type: 'Point', coordinates: [125.52, 9.78] } },
      { type: 'Feature', properties: { name: 'Test Gold Site Halmahera', commodities: 'Au | Cu', country: 'ID', source_url: 'https://example.org/record/7' }, geometry: { type: 'Point', coordinates: [128.0, 1.2] } },
    ],
  };
  const status = await page.evaluate(async ([token, body]) => (await fetch('/api/collections/test-agency?title=Test%20agency%20occurrences&license=CC-BY-4.0&attribution=Test%20Survey%20Agency', {
    method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/geo+json' }, body: JSON.stringify(body),
  })).status, [process.env.UPLOAD_TOKEN, file]);
  assert.equal(status, 201);
  // It appears without a reload: the map polls the catalog.
  await page.waitForFunction(() => document.querySelector('#layers input[data-layer="test-agency"]'), null, { timeout: 15000 });
  await waitIdle(page);
  assert.ok(await page.locator('#layers input').count() > layerCountBefore);
  assert.match(await page.locator('#layers').innerText(), /Test agency occurrences[\s\S]*Licence: CC-BY-4.0/);
  assert.match(await page.locator('.maplibregl-ctrl-attrib').innerText(), /Test Survey Agency/);
  // Its points are coloured by their primary commodity's group (derived from the list, as
  // the protocol says), not grey.
  const primaries = await page.evaluate(() => window.amisMap.queryRenderedFeatures({ layers: ['test-agency-points'] })
    .map((f) => f.properties.primary_commodity).sort());
  assert.deepEqual(primaries, ['Gold', 'Nickel']);

  // Filters and the count take it in.
  await page.selectOption('#f-commodity', 'Nickel');
  await page.waitForFunction(() => /match the filter/.test(document.getElementById('count').textContent));
  await waitIdle(page);
  const count = Number(await page.locator('#count').getAttribute('data-count'));
  assert.equal(await drawnOccurrences(page), count);
  assert.equal(await downloaded(page), count);
  assert.ok(await page.isVisible('#downloads li[data-layer="test-agency"] .download-csv'));
  const drawnUploaded = await page.evaluate(() => window.amisMap.queryRenderedFeatures({ layers: ['test-agency-points'] }).map((f) => f.properties.name));
  assert.deepEqual(drawnUploaded, ['Test Nickel Site Surigao']);

  // Search finds it, and its javascript: source is text, not a link.
  await page.selectOption('#f-commodity', '');
  await page.fill('#search', 'test nickel');
  await page.keyboard.press('Enter');
  const result = page.locator('#search-results button').first();
  await result.waitFor();
  assert.match(await result.innerText(), /Test Nickel Site Surigao — Philippines · Test agency occurrences/);
  await result.click();
  const popup = page.locator('.maplibregl-popup-content');
  await popup.waitFor();
  assert.match(await popup.innerText(), /Commodities\s+Nickel, Cobalt/);
  assert.equal(await popup.locator('a').count(), 0, 'a javascript: URL is not a link');
  await page.evaluate(() => document.querySelectorAll('.maplibregl-popup').forEach((p) => p.remove()));

  // The country profile counts every occurrence layer.
  const expected = await page.evaluate(async () => {
    const layers = (await (await fetch('/api/collections')).json()).collections.filter((c) => c.kind === 'occurrences');
    let n = 0;
    for (const l of layers) n += (await (await fetch(`/api/collections/${l.id}/items?country=PHL&limit=1`)).json()).numberMatched;
    return n;
  });
  await page.evaluate(() => window.amisMap.jumpTo({ center: [122.5, 12.2], zoom: 6 }));
  await waitIdle(page);
  // A spot on land in the Philippines with no occurrence under the cursor.
  const point = await page.evaluate(() => {
    const map = window.amisMap;
    const r = map.getCanvas().getBoundingClientRect();
    for (const c of [[122.9, 11.1], [121.4, 16.4], [125.0, 7.4], [123.9, 10.4], [121.1, 15.2]]) {
      const p = map.project(c);
      const hits = map.queryRenderedFeatures(p);
      if (hits.some((f) => f.layer.id === 'asean-countries') && !hits.some((f) => f.layer.type === 'circle')) {
        return { x: r.left + p.x, y: r.top + p.y };
      }
    }
    return null;
  });
  assert.ok(point, 'a clear spot of the Philippines');
  await page.mouse.click(point.x, point.y);
  await page.waitForFunction(() => /mineral occurrence/.test(document.getElementById('profile-body').textContent));
  assert.match(await page.locator('#profile-body').innerText(), new RegExp(`${expected} mineral occurrences`));
  assert.deepEqual(problems, []);
  await page.screenshot({ path: `${ARTIFACTS}/map-uploaded-layer.png` });
  await page.close();
});

test('commodities outside every list publish, are drawn as Other commodities and filtered', async () => {
  const { page, problems } = await open('/?poll=2');
  const file = {
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', properties: { name: 'Test Quarry Ha Nam', commodities: 'Dimension stone; Marble', country: 'VN' }, geometry: { type: 'Point', coordinates: [105.92, 20.54] } },
      { type: 'Feature', properties: { name: 'Test Kryptonite Site', commodities: 'Kryptonite', country: 'Viet Nam' }, geometry: { type: 'Point', coordinates: [105.2, 21.6] } },
      { type: 'Feature', properties: { name: 'Test Chromite Site', commodities: 'Chromite', country: 'VNM' }, geometry: { type: 'Point', coordinates: [105.6, 19.9] } },
    ],
  };
  const reply = await page.evaluate(async ([token, body]) => {
    const r = await fetch('/api/collections/test-industrial?kind=occurrences&title=Industrial%20test', {
      method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/geo+json' }, body: JSON.stringify(body),
    });
    return { status: r.status, json: await r.json() };
  }, [process.env.UPLOAD_TOKEN, file]);
  assert.equal(reply.status, 201, JSON.stringify(reply.json));
  assert.ok(reply.json.report.problems.some((p) => p.severity === 'warning' && /"Kryptonite" is in no commodity list/.test(p.reason)));
  await page.waitForFunction(() => document.querySelector('#layers input[data-layer="test-industrial"]'), null, { timeout: 15000 });
  await page.evaluate(() => window.amisMap.jumpTo({ center: [105.6, 20.6], zoom: 7 }));
  await waitIdle(page);
  // Drawn: the listed ones in their groups' colours, the unlisted one in Other commodities'.
  const colours = await page.evaluate(() => Object.fromEntries(window.amisMap.queryRenderedFeatures({ layers: ['test-industrial-points'] })
    .map((f) => { const c = f.layer.paint['circle-color']; return [f.properties.primary_commodity, [c.r, c.g, c.b].map((v) => Math.round(v * 255))]; })));
  assert.deepEqual(colours.Kryptonite, [0x94, 0x67, 0xbd], JSON.stringify(colours));
  assert.deepEqual(colours['Dimension stone'], [0xa4, 0x75, 0x51], JSON.stringify(colours));
  assert.ok(colours.Chromium, JSON.stringify(colours));
  // Filtered: the menu lists it under Other commodities; choosing it leaves that one point.
  assert.equal(await page.locator('#f-commodity optgroup[label="Other commodities"] option[value="Kryptonite"]').count(), 1);
  await page.selectOption('#f-commodity', 'Kryptonite');
  await page.waitForFunction(() => /matches the filter/.test(document.getElementById('count').textContent));
  await waitIdle(page);
  assert.equal(Number(await page.locator('#count').getAttribute('data-count')), 1);
  assert.equal(await drawnOccurrences(page), 1);
  assert.equal(await downloaded(page), 1);
  await page.selectOption('#f-commodity', '');
  assert.deepEqual(problems, []);
  await page.screenshot({ path: `${ARTIFACTS}/map-other-commodities.png` });
  await page.close();
});

test('for every commodity and group, the points drawn = the count = the download', async () => {
  const { page, problems } = await open('/#map=3.60/6.0000/116.0000');
  const options = await page.$$eval('#f-commodity option', (os) => os.map((o) => o.value).filter(Boolean));
  assert.ok(options.length > 40, `${options.length} commodities`);
  assert.ok(options.includes('Rare Earth Elements') && options.includes('Platinum group elements'));
  const mismatches = [];
  for (const value of options) {
    await page.evaluate(() => { document.getElementById('count').textContent = ''; });
    await page.selectOption('#f-commodity', value);
    await page.waitForFunction(() => /in view/.test(document.getElementById('count').textContent));
    await waitIdle(page);
    const count = Number(await page.locator('#count').getAttribute('data-count'));
    const drawn = await drawnOccurrences(page);
    const download = await downloaded(page);
    if (!(count === drawn && drawn === download)) mismatches.push(`${value}: drawn ${drawn}, counted ${count}, downloaded ${download}`);
  }
  assert.deepEqual(mismatches, []);
  // Whole elements, and families: the numbers the issue found wrong.
  const counted = async (value) => {
    await page.selectOption('#f-commodity', value);
    await page.waitForFunction(() => /in view/.test(document.getElementById('count').textContent));
    return Number(await page.locator('#count').getAttribute('data-count'));
  };
  assert.ok(await counted('Rare Earth Elements') >= 41);
  assert.ok(await counted('Phosphorus') < 10, 'Phosphorus does not find Phosphorus-Phosphates');
  assert.deepEqual(problems, []);
  await page.close();
});
