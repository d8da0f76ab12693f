// The agencies' upload page: PUT the chosen file to /api/collections/{id} with the token and
// show the server's answer, including the protocol report of a refused file.
const $ = (id) => document.getElementById(id);
const TYPES = { fgb: 'application/flatgeobuf', geojson: 'application/geo+json', json: 'application/geo+json', csv: 'text/csv' };

function show(kind, ...nodes) {
  $('result').className = kind;
  $('result').replaceChildren(...nodes);
}

const text = (tag, content) => Object.assign(document.createElement(tag), { textContent: content });

$('upload-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const file = $('file').files[0];
  const type = TYPES[file.name.split('.').pop().toLowerCase()];
  if (!type) { show('error', text('p', `${file.name}: use a .fgb, .geojson or .csv file`)); return; }
  const params = new URLSearchParams({ kind: $('kind').value });
  if ($('title').value) params.set('title', $('title').value);
  if ($('license').value) params.set('license', $('license').value);
  const layer = $('layer').value.trim();
  show('', text('p', `Uploading ${file.name} (${file.size.toLocaleString()} bytes)…`));
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
  if (response.ok) {
    const link = Object.assign(document.createElement('a'), { href: '/', textContent: 'See it on the map' });
    show('ok', text('p', `Published ${layer}, version ${body.version}: ${body.features} features (${(body.geometryTypes || []).join(', ')}).`), link);
    return;
  }
  const nodes = [text('p', `Refused (${response.status} ${body.code || ''}): ${body.description || response.statusText}`)];
  if (body.report) {
    const table = document.createElement('table');
    table.createTHead().innerHTML = '<tr><th>Feature</th><th>Property</th><th>Problem</th></tr>';
    const tbody = table.createTBody();
    for (const p of body.report.problems) {
      const tr = tbody.insertRow();
      tr.insertCell().textContent = p.feature ?? 'file';
      tr.insertCell().textContent = p.field ?? '—';
      tr.insertCell().textContent = p.reason;
    }
    nodes.push(table);
    if (body.report.total > body.report.problems.length) nodes.push(text('p', `…and ${body.report.total - body.report.problems.length} more.`));
  }
  show('error', ...nodes);
});
