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
  page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
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
  assert.ok(await distinctColours(page) > 20, 'canvas is not blank');
  assert.ok(await renderedOccurrences(page) > 100, 'occurrences are drawn');
  const legend = await page.locator('#layers').innerText();
  assert.match(legend, /Battery & critical minerals/);
  assert.match(await page.locator('.maplibregl-ctrl-attrib').innerText(), /GEM/);
  await page.screenshot({ path: `${ARTIFACTS}/map-default.png` });
  await page.close();
});

test('clicking a known occurrence opens a popup with its name', async () => {
  const { page } = await open();
  const target = await page.evaluate(async () => {
    const fc = await (await fetch('/api/collections/mineral-occurrences/items?q=Grasberg&limit=1')).json();
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
    .every((f) => f.properties.commodities.includes('Nickel')));
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
  assert.equal(await page.inputValue('#f-country'), 'Philippines');
  assert.equal(await page.isChecked('#layers input[data-layer="active-faults"]'), false);
  const countries = await page.evaluate(() => [...new Set(window.amisMap
    .queryRenderedFeatures({ layers: ['mineral-occurrences-points'] }).map((f) => f.properties.country))]);
  assert.deepEqual(countries, ['Philippines']);
  await page.close();
});

test('download in view returns valid GeoJSON for the view', async () => {
  const { page } = await open('/#map=6.00/12.0000/122.0000');
  const href = await page.getAttribute('#download-json', 'href');
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

test('the layout works on a phone', async () => {
  const page = await browser.newPage({ viewport: { width: 390, height: 800 }, isMobile: true, hasTouch: true });
  await page.goto(BASE + '/');
  await page.waitForFunction(() => window.amisMap && window.amisMap.loaded(), null, { timeout: 30000 });
  assert.ok(await page.isVisible('#panel-toggle'));
  await page.click('#panel-toggle');
  await page.waitForTimeout(300);
  assert.ok(await page.isVisible('#f-commodity'));
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
  assert.match(text, /110 mineral occurrences/);
  assert.ok(await page.locator('#profile svg rect').count() >= 5, 'production charts are drawn');
  assert.deepEqual(problems, []);
  await page.screenshot({ path: `${ARTIFACTS}/map-country-profile.png` });
  await page.close();
});

test('search by name flies to the result and opens its popup, by keyboard', async () => {
  const { page } = await open();
  await page.focus('#search');
  await page.keyboard.type('Ok Tedi');
  await page.keyboard.press('Enter');
  const result = page.locator('#search-results button').first();
  await result.waitFor();
  assert.match(await result.innerText(), /Ok Tedi/);
  await result.focus();
  await page.keyboard.press('Enter');
  await page.locator('.maplibregl-popup-content').waitFor();
  assert.match(await page.locator('.maplibregl-popup-content').innerText(), /Ok Tedi/);
  await page.waitForFunction(() => !window.amisMap.isMoving() && window.amisMap.getZoom() > 9.9);
  const c = await page.evaluate(() => window.amisMap.getCenter());
  assert.ok(Math.abs(c.lng - 141.13) < 0.01 && Math.abs(c.lat + 5.2) < 0.01);
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
  await page.click('button[type=submit]');
  await page.waitForSelector('#result.ok');
  assert.match(await page.innerText('#result'), /Published test-occurrences, version 1: 2 features/);
  const collection = await page.evaluate(async () => (await fetch('/api/collections/test-occurrences')).json());
  assert.equal(collection.title, 'Browser test occurrences');

  await page.setInputFiles('#file', `${examples}geology.geojson`);
  await page.click('button[type=submit]');
  await page.waitForSelector('#result.error');
  const report = await page.innerText('#result');
  assert.match(report, /422/);
  assert.match(report, /geometry must be a Point/);
  assert.deepEqual(problems, []);
  await page.screenshot({ path: `${ARTIFACTS}/upload-report.png` });
  await page.close();
});
