// Beaconport workspace: one page, hash routes, every call to this origin's /api (the server's
// content security policy forbids anything else). Text from the ledger is only ever set as text
// (textContent), never parsed as HTML.
'use strict';

const state = {
  me: null,
  purpose: sessionStorage.getItem('bp.purpose') || '',
  routeStarted: 0,
  chart: null,
};
// The page's state, for the browser tests (the chart's graph, the signed-in user).
window.bpState = state;
// Render times, read by the browser tests: {page, ms (since the route began), sinceLoad, nodes}.
window.bpTimings = [];

// ---------- small helpers ----------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function status(text, error) {
  const s = document.getElementById('status');
  s.textContent = text || '';
  s.className = 'status' + (error ? ' error' : '');
}

function main() { return document.getElementById('main'); }

function show(...nodes) {
  const m = main();
  m.replaceChildren(...nodes.flat());
}

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function post(url, body, headers) {
  const r = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: Object.assign({ 'content-type': 'application/json' }, headers || {}),
    body: JSON.stringify(body || {}),
  });
  let data = {};
  try { data = await r.json(); } catch (_) { /* empty body */ }
  if (!r.ok) throw new ApiError(r.status, data.code || 'error', data.message || r.statusText);
  return data;
}

// One call of the API in proto3 JSON. Calls that disclose personal data carry the purpose.
function call(service, method, body) {
  return post(`/api/call/${service}/${method}`, body, { 'x-beaconport-purpose': state.purpose });
}

function context() { return { purpose: state.purpose }; }

function fail(e) {
  if (e instanceof ApiError && e.status === 401) { location.hash = '#/signin'; return; }
  const what = e instanceof ApiError && e.status === 403 ? 'Permission denied: ' : 'Error: ';
  status(what + e.message, true);
  show(h('h1', {}, e instanceof ApiError && e.status === 403 ? 'Not allowed' : 'Something went wrong'),
    h('p', { class: 'bad', id: 'error' }, what + e.message));
}

// Records how long a page took to show, after the browser has painted it.
function rendered(page, extra, after) {
  const started = state.routeStarted;
  requestAnimationFrame(() => requestAnimationFrame(() => {
    const now = performance.now();
    window.bpTimings.push(Object.assign({ page, ms: Math.round(now - started), sinceLoad: Math.round(now) }, extra || {}));
    document.body.dataset.rendered = page;
    if (after) setTimeout(after, 0);
  }));
}

function needPurpose() {
  if (state.purpose) return false;
  const form = document.getElementById('purpose-form');
  form.classList.add('missing');
  show(h('h1', {}, 'Purpose required'),
    h('p', {}, 'This page shows personal data. Say why you are looking (an operation name or a reason) in the Purpose box above; it is recorded with every consultation.'));
  document.getElementById('purpose').focus();
  return true;
}

function params(query) {
  const p = {};
  for (const [k, v] of new URLSearchParams(query || '')) p[k] = v;
  return p;
}

function link(href, text) { return h('a', { href }, text); }

// Links to the first and the next page of a long list, keeping the page's other parameters.
function pager(route, q, next) {
  const at = (token) => {
    const p = new URLSearchParams(q);
    if (token) p.set('page', token); else p.delete('page');
    return `${route}?${p.toString()}`;
  };
  return h('p', { class: 'actions', id: 'pager' },
    q.page ? link(at(''), 'First page') : '',
    next ? link(at(next), 'Next page') : '');
}
function personLink(id, name) { return link(`#/person/${id}`, name || id); }
function pct(x) { return x === undefined || x === null ? '–' : `${(x * 100).toFixed(1)}%`; }
function mention(m) { return m ? `${m.force_code}/${m.case_ref}/${m.person_ref}` : ''; }

function table(headers, rows, attrs) {
  return h('table', attrs || {},
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))));
}

// ---------- sign-in and the frame ----------

async function loadMe() {
  try {
    const r = await fetch('/api/me', { credentials: 'same-origin' });
    if (r.ok) { state.me = await r.json(); return true; }
    state.me = null;
    state.signIn = r.headers.get('x-beaconport-sign-in') || 'claimed';
    return false;
  } catch (_) { return false; }
}

function frame() {
  const signedIn = !!state.me;
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('purpose-form').hidden = !signedIn;
  document.getElementById('sign-out').hidden = !signedIn || state.me.sign_in !== 'claimed';
  document.getElementById('nav-audit').hidden = !(signedIn && state.me.role === 'auditor');
  document.getElementById('who').textContent = signedIn ? `${state.me.principal} (${state.me.role})` : '';
  document.getElementById('purpose').value = state.purpose;
  for (const a of document.querySelectorAll('#nav a')) {
    const current = location.hash.startsWith(a.getAttribute('href'));
    if (current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
}

function signInPage() {
  if (state.signIn === 'certificate') {
    show(h('h1', {}, 'Sign in'),
      h('p', {}, 'This ledger knows its users by their client certificate. Your browser presented none that the ledger maps to a role: ask your administrator for one.'));
    return;
  }
  const principal = h('input', { id: 'signin-principal', required: true, autocomplete: 'username' });
  const role = h('select', { id: 'signin-role' },
    ['investigator', 'auditor', 'operator', 'force'].map((r) => h('option', { value: r }, r)));
  const form = h('form', { class: 'row', id: 'signin-form' },
    h('label', { for: 'signin-principal' }, 'Principal', principal),
    h('label', { for: 'signin-role' }, 'Role', role),
    h('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      state.me = await post('/api/session', { principal: principal.value, role: role.value });
      location.hash = '#/search';
    } catch (e) { status(e.message, true); }
  });
  show(h('h1', {}, 'Sign in (development mode)'),
    h('p', { class: 'note' }, 'This ledger serves without TLS: you claim who you are, exactly as a plaintext gRPC caller does. A deployment identifies users by client certificate.'),
    form);
  principal.focus();
}

// ---------- search ----------

async function searchPage(q) {
  const name = h('input', { id: 'q-name', value: q.name || '' });
  const dob = h('input', { id: 'q-dob', value: q.dob || '', placeholder: 'YYYY-MM-DD' });
  const ident = h('input', { id: 'q-identifier', value: q.identifier || '', placeholder: 'phone, vehicle, passport…' });
  const form = h('form', { class: 'row', id: 'search-form', role: 'search' },
    h('label', { for: 'q-name' }, 'Name', name),
    h('label', { for: 'q-dob' }, 'Date of birth', dob),
    h('label', { for: 'q-identifier' }, 'Identifier', ident),
    h('button', { type: 'submit' }, 'Search'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    if (name.value) p.set('name', name.value);
    if (dob.value) p.set('dob', dob.value);
    if (ident.value) p.set('identifier', ident.value);
    location.hash = '#/search?' + p.toString();
  });
  const results = h('div', { id: 'results' });
  show(h('h1', {}, 'Search persons'), form, results);
  if (!q.name && !q.dob && !q.identifier) { name.focus(); rendered('search'); return; }
  if (needPurpose()) return;
  const r = await call('QueryService', 'SearchPersons',
    { context: context(), name: q.name || '', date_of_birth: q.dob || '', identifier: q.identifier || '', page_size: 50 });
  const persons = r.persons || [];
  results.replaceChildren(
    h('p', { class: 'note' }, `${persons.length} persons, best match first (views at position ${r.as_of_position || 0}).`),
    table(['Person', 'Date of birth', 'Forces', 'Mentions', 'Roles', 'Score', 'Matched on'],
      persons.map((p) => [
        personLink(p.person_id, p.display_name),
        p.date_of_birth || '',
        (p.forces || []).join(', '),
        String(p.mentions || 0),
        (p.roles || []).join(', '),
        (p.score || 0).toFixed(1),
        (p.matched || []).map((m) => `${m.field} ${m.level}`).join('; '),
      ]), { id: 'search-results' }));
  status(`${persons.length} results`);
  rendered('search', { results: persons.length });
}

// ---------- dossier ----------

async function personPage(id) {
  if (needPurpose()) return;
  const d = await call('QueryService', 'GetPerson', { context: context(), person_id: id });
  const s = d.person || {};
  // One event id per decision as first tried: a retry after a failure records nothing twice.
  const ids = new Map();
  const decide = async (ev, decision, reasonInput) => {
    const reason = reasonInput.value.trim();
    if (!reason) {
      status('Say why: the reason is recorded in the ledger with the decision.', true);
      reasonInput.focus();
      return;
    }
    try {
      const key = `${mention(ev.a)}|${mention(ev.b)}|${decision}|${reason}`;
      if (!ids.has(key)) ids.set(key, eventId());
      const r = await call('QueryService', 'DecideLink', {
        context: context(), a: ev.a, b: ev.b, decision, reason,
        force_code: ev.a.force_code, case_ref: ev.a.case_ref, event_id: ids.get(key),
      });
      ids.delete(key);
      status(`Decision recorded at position ${r.position}${r.duplicate ? ' (already recorded)' : ''}. The resolution follows it.`);
      document.body.dataset.recorded = String(r.position);
    } catch (e) { status(e.message, true); }
  };
  const evidence = (d.evidence || []).map((ev, i) => {
    const reason = h('input', { id: `reason-${i}`, size: 40, maxlength: 2000 });
    return h('li', {},
      `${mention(ev.a)} ↔ ${mention(ev.b)}: `,
      ev.asserted ? h('strong', {}, 'asserted by an investigator') : `weight ${(ev.weight || 0).toFixed(1)}, probability ${pct(ev.probability)}`,
      h('ul', {}, (ev.fields || []).map((f) => h('li', {}, `${f.field}: ${f.level} (${(f.weight || 0).toFixed(1)})`))),
      h('div', { class: 'actions' },
        h('label', { for: `reason-${i}`, class: 'field' }, 'Reason for a decision', reason),
        h('button', { type: 'button', class: 'secondary', 'data-decision': 'same', onclick: () => decide(ev, 'LINK_DECISION_SAME', reason) }, 'Assert same person'),
        h('button', { type: 'button', class: 'danger', 'data-decision': 'different', onclick: () => decide(ev, 'LINK_DECISION_DIFFERENT', reason) }, 'Reject link')));
  });
  show(
    h('h1', { id: 'dossier-name' }, s.display_name || id),
    h('p', {},
      s.date_of_birth ? `Born ${s.date_of_birth}. ` : '',
      `${s.mentions || 0} mentions in ${s.cases || 0} cases across ${(s.forces || []).length} forces (${(s.forces || []).join(', ')}). `,
      (s.other_names || []).length ? `Also recorded as ${(s.other_names || []).join(', ')}.` : ''),
    h('p', { class: 'actions' },
      link(`#/chart/${id}`, 'Open the linked-suspects chart'),
      d.network_id ? link(`#/network/${encodeURIComponent(d.network_id)}`, 'Open the whole network') : ''),
    (d.risk_markers || []).length ? h('p', {}, 'Risk markers: ', (d.risk_markers || []).map((r) => h('span', { class: 'tag risk' }, r))) : '',
    h('h2', {}, 'Mentions'),
    table(['Force', 'Case', 'Role', 'Name', 'Date of birth', 'Sex', 'Ethnicity (self / observed)', 'Recorded'],
      (d.mentions || []).map((m) => [
        m.mention.force_code, m.mention.case_ref, m.role, m.name, m.date_of_birth || '', m.sex || '',
        `${m.self_defined_ethnicity || '–'} / ${m.officer_observed_ethnicity || '–'}`, (m.recorded_at || '').slice(0, 10),
      ]), { id: 'mentions' }),
    h('h2', {}, 'Cases and decisions'),
    table(['Force', 'Case', 'Role', 'Offence', 'Reported', 'Force flags', 'Latest decision'],
      (d.cases || []).map((c) => [
        c.force_code, c.case_ref, c.role, `${c.offence || ''} (${c.offence_code || ''})`, c.reported_on || '',
        (c.force_flags || []).join(', '), `${c.latest_decision || ''} ${c.latest_decision_on || ''}`,
      ])),
    h('h2', {}, 'Identifiers'),
    table(['Kind', 'Value', 'Seen in'],
      (d.identifiers || []).map((i) => [i.kind, i.value, (i.seen_in || []).map(mention).join(', ')])),
    h('h2', {}, 'Resolution evidence'),
    evidence.length ? h('ul', { class: 'evidence', id: 'evidence' }, evidence)
      : h('p', { class: 'note' }, 'One mention: nothing was merged.'));
  status(`Dossier as of position ${d.as_of_position || 0}.`);
  rendered('dossier', { mentions: (d.mentions || []).length });
}

// ---------- chart ----------

const PALETTE = ['#0b4f8a', '#a4161a', '#1d6b2f', '#7a3e00', '#5b2a86', '#00666b', '#8a0b5a', '#3d4f00',
  '#b34700', '#2f3e9e', '#6b4f00', '#005f3a'];
function forceColour(force) {
  if (!force) return '#6b7684';
  let x = 0;
  for (const c of force) x = (x * 31 + c.charCodeAt(0)) >>> 0;
  return PALETTE[x % PALETTE.length];
}

// The graph as the page holds it, whatever view it came from.
class Chart {
  constructor(root) {
    this.root = root; // the person the chart was opened on, if any
    this.nodes = new Map();
    this.edges = new Map();
    this.selected = null;
  }
  node(id, kind, label, force) {
    if (!this.nodes.has(id)) this.nodes.set(id, { id, kind, label, force });
    else if (label && this.nodes.get(id).label === this.nodes.get(id).id) this.nodes.get(id).label = label;
    return id;
  }
  edge(from, to, type, evidence) {
    const id = `${from}|${to}|${type}`;
    if (!this.edges.has(id)) this.edges.set(id, Object.assign({ id, source: from, target: to, type }, evidence));
    return id;
  }
  // One path step: from person, through what links them (a case, an identifier, a place, a
  // victim), to the next person.
  step(s) {
    const from = `person:${s.from_person_id}`;
    const to = `person:${s.to_person_id}`;
    this.node(from, 'person', from, '');
    this.node(to, 'person', to, '');
    let via;
    if (s.link_type === 'co_suspect' || s.link_type === 'suspect_of_victim') {
      via = this.node(`case:${s.force_code}/${s.case_ref}`, 'case', `${s.force_code} ${s.case_ref}`, s.force_code);
    } else if (s.link_type === 'shared_victim') {
      via = this.node(`person:${s.via}`, 'victim', 'victim', s.force_code);
    } else if (s.link_type === 'same_place') {
      via = this.node(`place:${s.via}`, 'place', s.via, '');
    } else {
      via = this.node(`identifier:${s.link_type}:${s.via}`, 'identifier', `${s.link_type.replace('shared_', '')} ${s.via}`, '');
    }
    const ev = { description: s.description, force: s.force_code, case_ref: s.case_ref, on: s.reported_on || '', via: s.via };
    return [this.edge(from, via, s.link_type, ev), this.edge(via, to, s.link_type, ev), from, via, to];
  }
  suspects(list) {
    const ids = [];
    for (const l of list) {
      const p = l.person || {};
      this.node(`person:${p.person_id}`, 'person', p.display_name, (p.forces || [])[0] || '');
      const n = this.nodes.get(`person:${p.person_id}`);
      n.label = p.display_name || n.label; n.force = n.force || (p.forces || [])[0] || '';
      for (const s of l.path || []) ids.push(...this.step(s));
    }
    return ids;
  }
  network(net) {
    for (const n of net.nodes || []) this.node(n.id, n.kind, n.label, n.force_code);
    for (const e of net.edges || []) this.edge(e.from, e.to, e.kind, { description: `${e.kind.replace('_', ' ')} (${e.evidence})`, on: '' });
  }
  elements() {
    const els = [];
    for (const n of this.nodes.values()) {
      els.push({ group: 'nodes', data: { id: n.id, label: n.kind === 'person' && n.label === n.id ? '…' : n.label, kind: n.kind, colour: forceColour(n.force), force: n.force || '' } });
    }
    for (const e of this.edges.values()) {
      els.push({ group: 'edges', data: { id: e.id, source: e.source, target: e.target, type: e.type, on: e.on || '' } });
    }
    return els;
  }
}

const CY_STYLE = [
  { selector: 'node', style: { 'background-color': 'data(colour)', label: 'data(label)', 'font-size': 9, 'text-valign': 'bottom', 'text-margin-y': 2, width: 18, height: 18, color: '#1b1f24', 'text-max-width': 90, 'text-wrap': 'ellipsis', 'min-zoomed-font-size': 6 } },
  { selector: 'node[kind = "case"]', style: { shape: 'round-rectangle', width: 14, height: 14 } },
  { selector: 'node[kind = "identifier"]', style: { shape: 'diamond', width: 14, height: 14 } },
  { selector: 'node[kind = "place"]', style: { shape: 'triangle', width: 14, height: 14 } },
  { selector: 'node[kind = "victim"]', style: { shape: 'ellipse', 'border-width': 2, 'border-color': '#a4161a', 'background-color': '#fff' } },
  { selector: 'node.root', style: { width: 28, height: 28, 'border-width': 3, 'border-color': '#f2a900' } },
  { selector: 'edge', style: { width: 1.5, 'line-color': '#8a96a3', 'curve-style': 'haystack' } },
  { selector: 'edge[type = "co_suspect"]', style: { 'line-color': '#a4161a' } },
  { selector: 'edge[type = "shared_victim"], edge[type = "suspect_of_victim"]', style: { 'line-color': '#7a3e00', 'line-style': 'dashed' } },
  { selector: 'edge.path', style: { 'line-color': '#f2a900', width: 5, 'z-index': 10 } },
  { selector: 'node.path', style: { 'border-width': 4, 'border-color': '#f2a900' } },
  { selector: 'node:selected', style: { 'border-width': 4, 'border-color': '#000' } },
  { selector: 'edge:selected', style: { 'line-color': '#000', width: 4 } },
  { selector: '.hidden', style: { display: 'none' } },
];

function chartShell(title, chart) {
  const types = h('fieldset', { id: 'types' }, h('legend', {}, 'Link types'));
  const from = h('input', { id: 'date-from', type: 'date' });
  const to = h('input', { id: 'date-to', type: 'date' });
  const nodeList = h('select', { id: 'node-list', size: 8, 'aria-label': 'Nodes in the chart' });
  const pathFrom = h('select', { id: 'path-from' });
  const pathTo = h('select', { id: 'path-to' });
  const detail = h('div', { id: 'detail', 'aria-live': 'polite' }, h('p', { class: 'note' }, 'Select a node or an edge.'));
  const expand = h('button', { type: 'button', id: 'expand', disabled: true }, 'Expand selected person by one hop');
  const showPath = h('button', { type: 'button', id: 'show-path' }, 'Show path');
  const legend = h('div', { class: 'legend', id: 'legend' });
  const ui = { types, from, to, nodeList, pathFrom, pathTo, detail, expand, showPath, legend };
  show(h('h1', {}, title),
    h('div', { class: 'chart-layout' },
      h('div', { id: 'cy', role: 'img', 'aria-label': `${title}: an interactive graph; the node list beside it gives the same nodes by keyboard` }),
      h('div', {},
        h('div', { class: 'panel' }, h('h2', {}, 'Selected'), detail, expand),
        h('div', { class: 'panel' }, h('h2', {}, 'Path between two people'),
          h('label', { for: 'path-from', class: 'field' }, 'From', pathFrom),
          h('label', { for: 'path-to', class: 'field' }, 'To', pathTo), showPath,
          h('p', { id: 'path-text', class: 'note' })),
        h('div', { class: 'panel' }, h('h2', {}, 'Filter'), types,
          h('label', { for: 'date-from', class: 'field' }, 'Linked on or after', from),
          h('label', { for: 'date-to', class: 'field' }, 'Linked on or before', to)),
        h('div', { class: 'panel' }, h('h2', {}, 'Nodes'), nodeList),
        h('div', { class: 'panel' }, h('h2', {}, 'Forces'), legend))));
  return ui;
}

function drawChart(chart, ui, page) {
  const elements = chart.elements();
  // Thousands of nodes: labels only where the user looks (selected, or on the path), and the
  // cheapest drawing; the names stay in the node list beside the chart.
  const huge = elements.length > 4000;
  const cy = cytoscape({
    container: document.getElementById('cy'),
    elements,
    style: huge ? CY_STYLE.concat([{ selector: 'node', style: { label: '' } }, { selector: 'node:selected, node.path, node.root', style: { label: 'data(label)' } }]) : CY_STYLE,
    layout: { name: 'preset' },
    wheelSensitivity: 0.3,
    textureOnViewport: true,
    hideEdgesOnViewport: true,
    pixelRatio: huge ? 1 : 'auto',
  });
  state.chart = { cy, chart, ui };
  if (chart.root) cy.getElementById(`person:${chart.root}`).addClass('root');
  relayout(cy, (settle) => rendered(page, { nodes: cy.nodes().length, edges: cy.edges().length, answered: state.answeredMs }, settle), page);
  cy.on('tap', 'node', (e) => select(e.target.id()));
  cy.on('tap', 'edge', (e) => selectEdge(e.target.id()));
  cy.on('dbltap', 'node', (e) => { select(e.target.id()); expandSelected(); });
  ui.expand.addEventListener('click', expandSelected);
  ui.showPath.addEventListener('click', () => showPathBetween().catch((e) => status(e.message, true)));
  ui.nodeList.addEventListener('change', () => { select(ui.nodeList.value); cy.getElementById(ui.nodeList.value).select(); });
  ui.from.addEventListener('change', applyFilters);
  ui.to.addEventListener('change', applyFilters);
  refreshPanels();
}

// Lays the chart out: first in rings (people inside, what links them outside), which costs
// milliseconds, so the chart shows at once; then, up to a few hundred nodes, a force-directed
// layout that reads better settles it (past that it would cost seconds). The largest networks
// go on a grid.
function relayout(cy, done, page) {
  const n = cy.nodes().length;
  const rings = n <= 3000
    ? { name: 'concentric', animate: false, fit: true, padding: 20, minNodeSpacing: 6,
        concentric: (node) => (node.hasClass('root') ? 100 : node.data('kind') === 'person' ? 10 : 5) + node.degree() / 10,
        levelWidth: () => 2 }
    : { name: 'grid', animate: false, fit: true, padding: 10, avoidOverlap: false };
  const first = cy.layout(rings);
  const settle = () => {
    if (n > 400) return;
    const started = performance.now();
    const force = cy.layout({ name: 'cose', animate: false, randomize: false, numIter: n <= 120 ? 600 : 300,
      idealEdgeLength: () => 40, nodeRepulsion: () => 8000, fit: true, padding: 20 });
    force.one('layoutstop', () => window.bpTimings.push({ page: `${page || 'chart'}-settled`, ms: Math.round(performance.now() - started), nodes: n }));
    force.run();
  };
  // The caller is told once the rings are painted, and hands back when to settle.
  first.one('layoutstop', () => (done ? done(settle) : settle()));
  first.run();
}

function refreshPanels() {
  const { cy, chart, ui } = state.chart;
  const present = new Set([...chart.edges.values()].map((e) => e.type));
  const checked = new Set([...ui.types.querySelectorAll('input:checked')].map((i) => i.value));
  const had = new Set([...ui.types.querySelectorAll('input')].map((i) => i.value));
  ui.types.replaceChildren(h('legend', {}, 'Link types'), ...[...present].sort().map((t) => {
    const box = h('input', { type: 'checkbox', id: `type-${t}`, value: t, checked: !had.has(t) || checked.has(t) });
    box.addEventListener('change', applyFilters);
    return h('div', {}, box, h('label', { for: `type-${t}` }, ` ${t.replaceAll('_', ' ')}`));
  }));
  const persons = [...chart.nodes.values()].filter((n) => n.kind === 'person').sort((a, b) => a.label.localeCompare(b.label));
  const option = (n) => h('option', { value: n.id }, `${n.label}${n.force ? ' (' + n.force + ')' : ''}`);
  ui.nodeList.replaceChildren(...[...chart.nodes.values()].sort((a, b) => a.label.localeCompare(b.label)).map((n) => h('option', { value: n.id }, `${n.kind}: ${n.label}`)));
  const keepFrom = ui.pathFrom.value || (chart.root ? `person:${chart.root}` : '');
  const keepTo = ui.pathTo.value;
  ui.pathFrom.replaceChildren(...persons.map(option));
  ui.pathTo.replaceChildren(...persons.map(option));
  if (keepFrom) ui.pathFrom.value = keepFrom;
  if (keepTo) ui.pathTo.value = keepTo;
  // Dates come with linked-suspect paths; a network's edges carry none.
  const dated = [...chart.edges.values()].some((e) => e.on);
  ui.from.parentElement.hidden = !dated;
  ui.to.parentElement.hidden = !dated;
  const forces = [...new Set([...chart.nodes.values()].map((n) => n.force).filter(Boolean))].sort();
  ui.legend.replaceChildren(...forces.map((f) => h('span', {}, h('span', { class: 'swatch', style: `background:${forceColour(f)}` }), f)));
  applyFilters();
  void cy;
}

function applyFilters() {
  const { cy, ui } = state.chart;
  const allowed = new Set([...ui.types.querySelectorAll('input:checked')].map((i) => i.value));
  const from = ui.from.value;
  const to = ui.to.value;
  cy.batch(() => {
    cy.edges().forEach((e) => {
      const on = e.data('on');
      const visible = allowed.has(e.data('type')) && (!on || ((!from || on >= from) && (!to || on <= to)));
      e.toggleClass('hidden', !visible);
    });
    cy.nodes().forEach((n) => {
      const keep = n.hasClass('root') || n.connectedEdges().some((e) => !e.hasClass('hidden'));
      n.toggleClass('hidden', !keep);
    });
  });
}

function select(id) {
  const { chart, ui } = state.chart;
  const n = chart.nodes.get(id);
  if (!n) return;
  chart.selected = id;
  ui.expand.disabled = n.kind !== 'person';
  // The node's links as buttons: each edge's evidence is reachable from the keyboard too.
  const name = (x) => (chart.nodes.get(x) || {}).label || x;
  const links = [...chart.edges.values()].filter((e) => e.source === id || e.target === id);
  ui.detail.replaceChildren(
    h('p', {}, h('strong', {}, n.label), ` (${n.kind}${n.force ? ', ' + n.force : ''})`),
    n.kind === 'person' ? h('p', {}, personLink(id.slice('person:'.length), 'Open dossier')) : '',
    links.length ? h('ul', { id: 'node-links', class: 'evidence' }, links.slice(0, 30).map((e) => h('li', {},
      h('button', { type: 'button', class: 'secondary', onclick: () => selectEdge(e.id) },
        `${e.type.replaceAll('_', ' ')}: ${name(e.source === id ? e.target : e.source)}`)))) : '',
    links.length > 30 ? h('p', { class: 'note' }, `and ${links.length - 30} more links`) : '');
}

function selectEdge(id) {
  const { chart, ui } = state.chart;
  const e = chart.edges.get(id);
  if (!e) return;
  const name = (x) => (chart.nodes.get(x) || {}).label || x;
  ui.detail.replaceChildren(h('div', { id: 'edge-evidence' },
    h('p', {}, h('strong', {}, e.type.replaceAll('_', ' ')), `: ${name(e.source)} — ${name(e.target)}`),
    h('p', {}, e.description || ''),
    e.case_ref ? h('p', {}, `Recorded in ${e.force} case ${e.case_ref}${e.on ? ', reported ' + e.on : ''}.`) : ''));
}

async function expandSelected() {
  const { cy, chart } = state.chart;
  const id = chart.selected;
  if (!id || !id.startsWith('person:')) return;
  state.routeStarted = performance.now();
  try {
    const r = await call('QueryService', 'LinkedSuspects',
      { context: context(), person_id: id.slice('person:'.length), max_hops: 1, page_size: 200 });
    const before = cy.nodes().length;
    chart.suspects(r.suspects || []);
    const fresh = chart.elements().filter((el) => cy.getElementById(el.data.id).empty());
    const centre = cy.getElementById(id).position();
    cy.add(fresh.map((el) => (el.group === 'nodes' ? Object.assign(el, { position: { x: centre.x + (Math.random() - 0.5) * 120, y: centre.y + (Math.random() - 0.5) * 120 } }) : el)));
    refreshPanels();
    status(`Expanded: ${cy.nodes().length - before} new nodes.`);
    rendered('expand', { nodes: cy.nodes().length, added: cy.nodes().length - before });
  } catch (e) { status(e.message, true); }
}

async function showPathBetween() {
  const { cy, chart, ui } = state.chart;
  const from = ui.pathFrom.value;
  const to = ui.pathTo.value;
  if (!from || !to || from === to) { status('Choose two different people.', true); return; }
  state.routeStarted = performance.now();
  const r = await call('QueryService', 'LinkedSuspects',
    { context: context(), person_id: from.slice(7), to_person_id: to.slice(7), max_hops: 4 });
  const found = (r.suspects || [])[0];
  cy.elements().removeClass('path');
  if (!found) {
    document.getElementById('path-text').textContent = 'No path within 4 hops.';
    status('No path within 4 hops.');
    rendered('path', { hops: 0 });
    return;
  }
  const ids = chart.suspects([found]);
  const fresh = chart.elements().filter((el) => cy.getElementById(el.data.id).empty());
  cy.add(fresh);
  if (fresh.length) relayout(cy);
  for (const id of ids) cy.getElementById(id).addClass('path');
  refreshPanels();
  document.getElementById('path-text').textContent = found.explanation;
  status(`Path of ${found.hops} hops highlighted.`);
  rendered('path', { hops: found.hops });
}

async function chartPage(id) {
  if (needPurpose()) return;
  const asked = performance.now();
  const r = await call('QueryService', 'LinkedSuspects', { context: context(), person_id: id, max_hops: 2, page_size: 200 });
  state.answeredMs = Math.round(performance.now() - asked);
  const chart = new Chart(id);
  const me = r.person || {};
  chart.node(`person:${id}`, 'person', me.display_name || `person:${id}`, (me.forces || [])[0] || '');
  chart.suspects(r.suspects || []);
  const ui = chartShell('Linked suspects', chart);
  if ((r.skipped_hubs || []).length) status(`Not followed (hubs shared by too many): ${r.skipped_hubs.join(', ')}`);
  drawChart(chart, ui, 'chart');
}

async function networkPage(id) {
  if (needPurpose()) return;
  const asked = performance.now();
  const net = await call('QueryService', 'GetNetwork', { context: context(), network_id: id });
  state.answeredMs = Math.round(performance.now() - asked);
  const chart = new Chart(null);
  chart.network(net);
  const s = net.summary || {};
  const ui = chartShell(`Network ${id}: ${(s.forces || []).join(', ')}`, chart);
  drawChart(chart, ui, 'network');
}

async function networksPage(q) {
  if (needPurpose()) return;
  const min = Number(q.min_forces || 2);
  const r = await call('QueryService', 'ListNetworks', { context: context(), min_forces: min, page_size: 100, page_token: q.page || '' });
  const input = h('input', { id: 'min-forces', type: 'number', min: 1, max: 50, value: min });
  const form = h('form', { class: 'row' }, h('label', { for: 'min-forces' }, 'Spanning at least this many forces', input), h('button', { type: 'submit' }, 'List'));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); location.hash = `#/networks?min_forces=${input.value}`; });
  show(h('h1', {}, 'Networks'), form,
    h('p', { class: 'note' }, `${r.total || 0} networks span at least ${min} forces.`),
    table(['Network', 'Forces', 'Suspects', 'Victims', 'Cases', 'Identifiers', 'Places'],
      (r.networks || []).map((n) => [link(`#/network/${encodeURIComponent(n.network_id)}`, n.network_id), (n.forces || []).join(', '),
        String(n.suspects || 0), String(n.victims || 0), String(n.cases || 0), String(n.identifiers || 0), String(n.places || 0)]),
      { id: 'networks' }),
    pager('#/networks', q, r.next_page_token));
  rendered('networks');
}

// ---------- review ----------

async function reviewPage(q) {
  if (needPurpose()) return;
  const req = { context: context(), page_size: 100, page_token: q.page || '', force_code: q.force || '', rape_only: q.rape === '1', band: q.band || '', status: q.status || '' };
  const r = await call('ReviewService', 'GetQueue', req);
  const force = h('input', { id: 'f-force', value: q.force || '', size: 6 });
  const band = h('select', { id: 'f-band' }, ['', 'high', 'medium', 'standard'].map((b) => h('option', { value: b, selected: b === (q.band || '') }, b || 'any')));
  const st = h('select', { id: 'f-status' }, ['', 'waiting', 'in_review', 'concluded', 'all'].map((b) => h('option', { value: b, selected: b === (q.status || '') }, b || 'open')));
  const rape = h('input', { id: 'f-rape', type: 'checkbox', checked: q.rape === '1' });
  const form = h('form', { class: 'row', id: 'queue-filters' },
    h('label', { for: 'f-force' }, 'Force', force), h('label', { for: 'f-band' }, 'Priority', band),
    h('label', { for: 'f-status' }, 'Status', st), h('label', { for: 'f-rape' }, 'Rape allegations only', rape),
    h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    if (force.value) p.set('force', force.value.trim().toUpperCase());
    if (band.value) p.set('band', band.value);
    if (st.value) p.set('status', st.value);
    if (rape.checked) p.set('rape', '1');
    location.hash = '#/review?' + p.toString();
  });
  show(h('h1', {}, 'NFA review queue'), form,
    h('p', { class: 'note' }, `${r.total || 0} cases, highest priority first.`),
    table(['#', 'Case', 'Offence', 'Rape', 'Priority', 'Open avenues', 'Other-force cases', 'Status', 'Force flagged', 'Standard met'],
      (r.items || []).map((i) => [String(i.rank), link(`#/review/${encodeURIComponent(i.force_code)}/${encodeURIComponent(i.case_ref)}`, `${i.force_code} ${i.case_ref}`),
        `${i.title || ''} (${i.offence_code || ''})`, i.rape ? 'yes' : '', `${i.band} (${i.score})`, `${i.open_avenues || 0} of ${i.avenues || 0}`,
        String(i.other_force_cases || 0), i.status || '', i.force_flagged ? 'yes' : 'no', i.standard_group_based ? 'yes' : 'no']),
      { id: 'queue' }),
    pager('#/review', q, r.next_page_token));
  rendered('queue', { items: (r.items || []).length });
}

function today() { return new Date().toISOString().slice(0, 10); }
function eventId() { return crypto.randomUUID(); }

async function reviewCasePage(force, ref) {
  if (needPurpose()) return;
  const c = await call('ReviewService', 'GetReviewCase', { context: context(), force_code: force, case_ref: ref });
  // One event id per step as first tried: a retry after a failure records nothing twice.
  const ids = new Map();
  const record = async (step, what) => {
    const key = JSON.stringify(step);
    if (!ids.has(key)) ids.set(key, eventId());
    try {
      const r = await call('ReviewService', 'RecordReview', Object.assign({ context: context(), force_code: force, case_ref: ref, event_id: ids.get(key) }, step));
      ids.delete(key);
      status(`${what} recorded at position ${r.position}.`);
      document.body.dataset.recorded = String(r.position);
    } catch (e) { status(e.message, true); }
  };
  const avenues = (c.avenues || []).map((a) => {
    const note = h('input', { id: `note-${a.id}`, 'aria-label': `Note on ${a.title}` });
    const act = (action, label) => h('button', { type: 'button', class: 'secondary', 'data-avenue': a.id, 'data-action': action,
      onclick: () => record({ actioned: { avenue: a.id, action, actioned_on: today(), note: note.value } }, `${label}: ${a.title}`) }, label);
    return h('li', {}, h('strong', {}, a.title), ` (${a.kind}${a.subject ? ', ' + a.subject : ''}) `,
      a.action ? h('span', { class: 'tag' }, `${a.action} ${a.actioned_on || ''} by ${a.actioned_by || ''}`) : h('span', { class: 'tag risk' }, 'open'),
      h('ul', {}, (a.evidence || []).map((e) => h('li', {}, e))),
      h('div', { class: 'actions' }, note, act('AVENUE_ACTION_PURSUED', 'Pursued'), act('AVENUE_ACTION_COMPLETED', 'Completed'), act('AVENUE_ACTION_NOT_POSSIBLE', 'Not possible')));
  });
  const conclusion = h('select', { id: 'conclusion' },
    [['REVIEW_CONCLUSION_DECISION_UPHELD', 'Decision upheld'], ['REVIEW_CONCLUSION_REINVESTIGATE', 'Reinvestigate'], ['REVIEW_CONCLUSION_REFERRED_TO_PROSECUTOR', 'Refer to prosecutor']]
      .map(([v, l]) => h('option', { value: v }, l)));
  const summary = h('input', { id: 'conclusion-summary', size: 50 });
  const i = c.item || {};
  show(h('h1', {}, `Review of ${force} ${ref}`),
    h('p', {}, `${i.title || ''} (${i.offence_code || ''}). Priority ${i.band || ''} (${i.score || 0}). Status: ${c.status || ''}${c.reviewer ? ', reviewer ' + c.reviewer : ''}.`),
    c.in_scope ? '' : h('p', { class: 'bad' }, `Out of scope: ${(c.out_of_scope || []).join('; ')}`),
    h('p', {}, `Standard definition of group-based abuse: ${c.standard_group_based ? 'met' : 'not met'}. `, (c.standard_reasons || []).join('; ')),
    h('p', {}, `Force flags: ${(c.force_flags || []).join(', ') || 'none'}.`),
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'start-review', onclick: () => record({ started: { programme: 'national NFA review', started_on: today(), note: '' } }, 'Review started') }, 'Start review')),
    h('h2', {}, 'Avenues'), avenues.length ? h('ul', { id: 'avenues' }, avenues) : h('p', { class: 'note' }, 'No avenues.'),
    h('h2', {}, 'Cases in other forces'),
    table(['Force', 'Case', 'How'], (c.other_force_cases || []).map((o) => [o.force_code, o.case_ref, (o.how || []).join('; ')])),
    h('h2', {}, 'Conclude'),
    h('div', { class: 'actions' }, h('label', { for: 'conclusion', class: 'field' }, 'Conclusion', conclusion),
      h('label', { for: 'conclusion-summary', class: 'field' }, 'Summary', summary),
      h('button', { type: 'button', id: 'conclude', onclick: () => record({ concluded: { conclusion: conclusion.value, concluded_on: today(), summary: summary.value } }, 'Conclusion') }, 'Record conclusion')));
  rendered('review-case');
}

// ---------- data quality ----------

function bars(title, rows, mark) {
  return h('div', { class: 'bars' }, h('h2', {}, title), rows.map(([label, value, alt]) => {
    const v = value === undefined || value === null ? null : Math.max(0, Math.min(1, value));
    return h('div', { class: 'bar', role: 'img', 'aria-label': `${label}: ${pct(v)}` },
      h('span', {}, label),
      h('span', { class: 'track' }, h('span', { class: 'fill' + (alt ? ' alt' : ''), style: `display:block;width:${(v || 0) * 100}%` }),
        mark !== undefined ? h('span', { class: 'mark', style: `left:${mark * 100}%` }) : ''),
      h('span', {}, pct(v)));
  }));
}

async function qualityPage() {
  if (needPurpose()) return;
  const q = await call('ReviewService', 'GetQuality', { context: context() });
  const forces = q.forces || [];
  const share = (c) => (c && c.mentions ? (c.either || 0) / c.mentions : null);
  show(h('h1', {}, 'Data quality by force'),
    h('p', {}, `Red marks: the inspectorate found ${pct(q.inspectorate_flagged_share)} of child abuse cases correctly flagged.`),
    h('div', { class: 'grid2' },
      bars('Group-based cases flagged by the force (in scope)', forces.map((f) => [f.force_code, f.in_scope_flagged_share]), q.inspectorate_flagged_share),
      bars('Force flags that agree with the standard definition (precision)', forces.map((f) => [f.force_code, f.precision, true])),
      bars('Suspects with an ethnicity recorded', forces.map((f) => [f.force_code, share(f.suspects)])),
      bars('Victims with an ethnicity recorded', forces.map((f) => [f.force_code, share(f.victims), true]))),
    h('h2', {}, 'Figures'),
    table(['Force', 'Cases', 'Standard met', 'Flagged', 'Agree', 'Precision', 'Recall', 'Suspect ethnicity', 'Victim ethnicity'],
      forces.map((f) => [`${f.force_code} ${f.force_name || ''}`, String(f.cases || 0), String(f.standard || 0), String(f.flagged || 0), String(f.agree || 0),
        pct(f.precision), pct(f.recall), pct(share(f.suspects)), pct(share(f.victims))]), { id: 'quality' }));
  rendered('quality', { forces: forces.length });
}

// ---------- auditor ----------

async function auditPage(q) {
  if (needPurpose()) return;
  const tab = q.tab || 'consultations';
  const tabs = h('p', { class: 'actions' }, link('#/audit?tab=consultations', 'Consultations'), link('#/audit?tab=replay', 'Replay'), link('#/audit?tab=verify', 'Verification'));
  if (tab === 'consultations') {
    const req = { principal: q.principal || '', person_id: q.person || '', page_size: 100, page_token: q.page || '' };
    const r = await call('AuditService', 'ListConsultations', req);
    const principal = h('input', { id: 'a-principal', value: q.principal || '' });
    const person = h('input', { id: 'a-person', value: q.person || '', size: 38 });
    const form = h('form', { class: 'row' }, h('label', { for: 'a-principal' }, 'By investigator', principal),
      h('label', { for: 'a-person' }, 'About person (id)', person), h('button', { type: 'submit' }, 'List'));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const p = new URLSearchParams({ tab: 'consultations' });
      if (principal.value) p.set('principal', principal.value.trim());
      if (person.value) p.set('person', person.value.trim());
      location.hash = '#/audit?' + p.toString();
    });
    show(h('h1', {}, 'Audit: consultations'), tabs, form,
      h('p', { class: 'note' }, `${r.total || 0} consultations.`),
      table(['Position', 'When', 'Who', 'Role', 'Purpose', 'Call', 'Disclosed', 'Outcome'],
        (r.consultations || []).map((c) => {
          const x = c.consultation || {};
          const persons = x.disclosed_persons || [];
          const byPerson = persons.slice(0, 3).map((p) => h('div', {}, link(`#/audit?tab=consultations&person=${encodeURIComponent(p)}`, `${p.slice(0, 8)}…`)));
          return [String(c.position), (c.recorded_at || '').slice(0, 19),
            link(`#/audit?tab=consultations&principal=${encodeURIComponent(x.principal)}`, x.principal), x.role, x.purpose, x.call,
            h('div', {}, `${x.disclosed_count || 0} disclosed`, byPerson, persons.length > 3 ? h('div', {}, `and ${persons.length - 3} more`) : ''), x.outcome];
        }), { id: 'consultations' }),
      pager('#/audit', q, r.next_page_token));
  } else if (tab === 'replay') {
    const from = Number(q.from || 0);
    const r = await call('AuditService', 'Replay', { from_position: from, limit: 100, force_codes: q.force ? [q.force] : [] });
    const fromInput = h('input', { id: 'r-from', type: 'number', min: 0, value: from });
    const forceInput = h('input', { id: 'r-force', value: q.force || '', size: 6 });
    const form = h('form', { class: 'row' }, h('label', { for: 'r-from' }, 'From position', fromInput),
      h('label', { for: 'r-force' }, 'Force', forceInput), h('button', { type: 'submit' }, 'Replay'));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const p = new URLSearchParams({ tab: 'replay', from: fromInput.value });
      if (forceInput.value) p.set('force', forceInput.value.trim().toUpperCase());
      location.hash = '#/audit?' + p.toString();
    });
    const kind = (ev) => Object.keys((ev.body || {})).join(', ');
    show(h('h1', {}, 'Audit: replay'), tabs, form,
      table(['Position', 'Appended', 'Force', 'Case', 'Event', 'Kind', 'Leaf hash'],
        (r.entries || []).map((e) => [String(e.position), e.appended_at, e.event.force_code, e.event.case_ref, e.event.event_id,
          kind(e.event), h('code', {}, (e.leaf_hash || '').slice(0, 16) + '…')]), { id: 'replay' }));
  } else {
    const saved = localStorage.getItem('bp.savedHead');
    const area = h('textarea', { id: 'saved-head', rows: 6, cols: 80, 'aria-label': 'A signed tree head saved earlier (JSON)' }, saved || '');
    const out = h('div', { id: 'verify-result' });
    const run = async () => {
      let body = {};
      if (area.value.trim()) {
        try { body = { saved: JSON.parse(area.value) }; } catch (e) { status(`The saved head is not JSON: ${e.message}`, true); return; }
      }
      try {
        const r = await post('/api/verify', body, { 'x-beaconport-purpose': state.purpose });
        const keep = h('button', { type: 'button', class: 'secondary', onclick: () => { localStorage.setItem('bp.savedHead', JSON.stringify(r.head)); area.value = JSON.stringify(r.head); status('Head kept in this browser: the next verification checks the log against it.'); } }, 'Keep this head for next time');
        out.replaceChildren(
          h('p', { class: r.intact ? 'ok' : 'bad', id: 'verify-verdict' }, r.intact ? 'INTACT' : 'ALTERED'),
          h('p', {}, `${r.events_checked} stored events hashed again; root ${r.recomputed_root}. Signed head now: size ${r.head.tree_size}, root ${r.head.root_hash}, key ${r.head.public_key}.`),
          r.first_difference ? h('p', { class: 'bad' }, `First difference at position ${r.first_difference.position}: ${r.first_difference.reason}`) : '',
          r.saved ? h('p', { class: r.saved.intact ? 'ok' : 'bad' }, `Saved head of ${r.saved.head.tree_size} events: ${r.saved.signature}; ${r.saved.contents}.`) : '',
          keep);
      } catch (e) { status(e.message, true); }
    };
    show(h('h1', {}, 'Audit: verification'), tabs,
      h('p', {}, 'Recomputes the tamper-evident tree from every stored event and checks it against the ledger\u2019s signed tree head, and against a head saved earlier (paste one written by `beaconport audit head`, or keep one here).'),
      h('label', { for: 'saved-head', class: 'field' }, 'Saved signed head (optional)', area),
      h('p', {}, h('button', { type: 'button', id: 'verify', onclick: run }, 'Verify')), out);
  }
  rendered(`audit-${tab}`);
}

// ---------- routing ----------

async function route() {
  state.routeStarted = performance.now();
  status('');
  const hash = location.hash || '#/search';
  const [path, query] = hash.slice(1).split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (!state.me && !(await loadMe())) { frame(); signInPage(); return; }
  frame();
  try {
    switch (parts[0]) {
      case 'signin': signInPage(); break;
      case 'person': await personPage(parts[1]); break;
      case 'chart': await chartPage(parts[1]); break;
      case 'network': await networkPage(parts[1]); break;
      case 'networks': await networksPage(params(query)); break;
      case 'review': if (parts[1]) await reviewCasePage(parts[1], parts[2]); else await reviewPage(params(query)); break;
      case 'quality': await qualityPage(); break;
      case 'audit': await auditPage(params(query)); break;
      default: await searchPage(params(query));
    }
  } catch (e) { fail(e); }
  main().focus({ preventScroll: true });
}

document.getElementById('purpose-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  state.purpose = document.getElementById('purpose').value.trim();
  sessionStorage.setItem('bp.purpose', state.purpose);
  document.getElementById('purpose-form').classList.toggle('missing', !state.purpose);
  status(state.purpose ? 'Purpose set: it is recorded with every consultation.' : '');
  if (state.purpose) route();
});
document.getElementById('sign-out').addEventListener('click', async () => {
  await fetch('/api/session', { method: 'DELETE', credentials: 'same-origin' });
  state.me = null;
  location.hash = '#/signin';
  route();
});
window.addEventListener('hashchange', route);
route();
