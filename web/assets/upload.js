// The agencies' upload page: PUT the chosen file to /api/collections/{id} with the token
// (with dry_run=true for "Check") and show the server's report: what was corrected, what
// must be fixed, each problem with the feature's position, identifier and name.
const $ = (id) => document.getElementById(id);
const TYPES = {
  fgb: 'application/flatgeobuf', geojson: 'application/geo+json', json: 'application/geo+json',
  csv: 'text/csv', gpkg: 'application/geopackage+sqlite3', zip: 'application/zip',
};

function show(kind, ...nodes) {
  $('result').className = kind;
  $('result').replaceChildren(...nodes);
}

const text = (tag, content) => Object.assign(document.createElement(tag), { textContent: content });
const plural = (n, one, many = `${one}s`) => `${n.toLocaleString()} ${n === 1 ? one : many}`;

function reportNodes(report) {
  const nodes = [];
  if (report.crs) nodes.push(text('p', `Reprojected from ${report.crs} to WGS 84.`));
  if (report.columns?.length) {
    nodes.push(text('p', `Columns read: ${report.columns.map((c) => `${c.column} as ${c.property}`).join(', ')}.`));
  }
  if (report.normalised?.length) {
    const list = document.createElement('ul');
    for (const n of report.normalised) list.append(text('li', `${n.field}: “${n.from}” published as “${n.to}” (${plural(n.features, 'feature')})`));
    nodes.push(text('h3', 'Corrected'), list);
  }
  if (report.problems?.length) {
    const table = document.createElement('table');
    const head = table.createTHead().insertRow();
    for (const h of ['', 'Feature', 'Id', 'Name', 'Property', 'Problem']) head.append(text('th', h));
    const tbody = table.createTBody();
    for (const p of report.problems) {
      const tr = tbody.insertRow();
      tr.className = p.severity;
      for (const v of [p.severity, p.feature ?? 'file', p.id ?? '', p.name ?? '', p.field ?? '—', p.reason]) tr.insertCell().textContent = v;
    }
    nodes.push(text('h3', `${plural(report.errors, 'error')}, ${plural(report.warnings, 'warning')}`), table);
    const listed = (s) => report.problems.filter((p) => p.severity === s).length;
    const more = report.errors - listed('error') + report.warnings - listed('warning');
    if (more > 0) nodes.push(text('p', `…and ${plural(more, 'more problem')} (the first 100 of each kind are listed).`));
  }
  return nodes;
}

$('upload-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const dryRun = event.submitter?.dataset.dryRun === 'true';
  const file = $('file').files[0];
  const type = TYPES[file.name.split('.').pop().toLowerCase()];
  if (!type) { show('error', text('p', `${file.name}: use a .fgb, .geojson, .csv, .gpkg or zipped Shapefile (.zip)`)); return; }
  const params = new URLSearchParams();
  for (const [id, name] of [['kind', 'kind'], ['title', 'title'], ['license', 'license'], ['attribution', 'attribution'],
    ['crs', 'crs'], ['table', 'layer'], ['encoding', 'encoding'], ['fields', 'fields']]) {
    const value = $(id).value.trim();
    if (value) params.set(name, value);
  }
  if (dryRun) params.set('dry_run', 'true');
  const layer = $('layer').value.trim();
  show('', text('p', `${dryRun ? 'Checking' : 'Uploading'} ${file.name} (${file.size.toLocaleString()} bytes)…`));
  let response;
  try {
    response = await fetch(`/api/collections/${encodeURIComponent(layer)}?${params}`, {
      method: 'PUT', body: file, headers: { 'Content-Type': type, Authorization: `Bearer ${$('token').value.trim()}` },
    });
  } catch (e) {
    show('error', text('p', `The upload failed: ${e.message}`));
    return;
  }
  const body = await response.json().catch(() => ({}));
  if (response.ok && body.dryRun) {
    const verdict = body.valid ? 'It would publish' : 'It would be refused';
    const kind = `${body.report.kind}${body.report.kindInferred ? ' (inferred)' : ''}`;
    show(body.valid ? 'ok' : 'error', text('p', `Checked ${file.name} as ${kind}. ${verdict}; nothing was published.`), ...reportNodes(body.report));
    return;
  }
  if (response.ok) {
    const link = Object.assign(document.createElement('a'), { href: '/', textContent: 'See it on the map' });
    const kind = `${body.kind}${body.kindInferred ? ' (inferred)' : ''}`;
    show('ok', text('p', `Published ${layer}, version ${body.version}, as ${kind}: ${plural(body.features, 'feature')} (${(body.geometryTypes || []).join(', ')}).`), link, ...reportNodes(body.report || {}));
    return;
  }
  show('error', text('p', `Refused (${response.status} ${body.code || ''}): ${body.description || response.statusText}`), ...reportNodes(body.report || {}));
});
