// The planners' page: log in with an API key, see the pipes the key's role may see, draw or
// paste a dig, submit it to POST /dig-checks, read the answer.
//
// Data flow: GET /collections lists only the layers the role may see (the server filters), so
// the page asks for nothing else; GET /collections/{layer}/items?bbox=… (CRS84) fills the view;
// POST /dig-checks answers conflicts grouped by owner, owners to notify and hidden-utility
// notices. The key lives in sessionStorage (gone when the tab closes) and goes out as
// `Authorization: Bearer`. No request leaves for another host: no tiles, no CDN.
'use strict';

// CJJ 61-2017 appendix B map colours (RGB), as Sources/SubterraModel/Model/Layer.swift has
// them; a test (PageAssetsTests) checks that this table matches the catalogue.
const LAYER_COLOURS = {
  JS: [0, 255, 255],
  PS: [76, 57, 38],
  RQ: [255, 0, 255],
  RL: [255, 127, 0],
  DL: [255, 0, 0],
  TX: [0, 255, 0],
  GY: [0, 0, 0],
  QT: [128, 0, 128],
  GX: [0, 128, 0],
};
const LAYER_NAMES = {
  JS: ['water supply', '给水'], PS: ['drainage', '排水'], RQ: ['gas', '燃气'], RL: ['heat', '热力'],
  DL: ['power', '电力'], TX: ['telecom', '通信'], GY: ['industrial', '工业'], QT: ['other', '其他'],
  GX: ['fibre', '光缆'],
};
const SEVERITY_COLOURS = { critical: '#b00020', high: '#e65100', medium: '#f9a825', low: '#607d8b' };

const TEXT = {
  en: {
    title: 'Subterra dig check', apiKey: 'API key', login: 'Log in', logout: 'Log out', layers: 'Layers',
    dig: 'Dig', drawPolygon: 'Draw polygon', drawLine: 'Draw trench line', finish: 'Finish', clear: 'Clear',
    drawHint: 'Click the map to add vertices; double-click or Finish to close.', paste: 'Paste coordinates',
    pasteCRS: 'CRS', usePaste: 'Use', depth: 'Depth (m)', width: 'Trench width (m)', workType: 'Work type',
    start: 'Start', end: 'End', submit: 'Check the dig', result: 'Result', conflicts: 'Conflicts by owner',
    notify: 'Owners to notify', hidden: 'Hidden utilities', downloads: 'Downloads', svgMap: 'SVG map',
    geojson: 'GeoJSON', answer: 'Answer (JSON)', print: 'Printable report', badKey: 'The key was refused.',
    loading: 'Loading pipes…', loaded: (n) => `${n} pipe segments in view`, noLayers: 'This key sees no layers.',
    severity: 'Severity', layer: 'Layer', pipe: 'Pipe', section: 'Section', clearM: 'Clear (m)',
    requiredM: 'Required (m)', depthM: 'Depth (m)', reaches: 'Reaches', none: 'None.',
    verdict: { violation: 'Conflicts found', ok: 'Clear: no pipe within its clearance', notChecked: 'Not fully checked' },
    highest: 'highest severity', needPoints: (n) => `Need at least ${n} vertices.`, drawn: 'Dig area ready.',
    pasteBad: 'Could not read coordinates: give WKT or lon,lat pairs.', checkId: 'Check', dataVersion: 'data version',
    contact: 'contact', sev: { critical: 'critical', high: 'high', medium: 'medium', low: 'low' },
    reachesWords: { yes: 'yes', no: 'no', possibly: 'possibly', unknown: 'unknown' },
  },
  zh: {
    title: 'Subterra 开挖核查', apiKey: 'API 密钥', login: '登录', logout: '退出', layers: '图层',
    dig: '开挖', drawPolygon: '绘制范围', drawLine: '绘制沟槽线', finish: '完成', clear: '清除',
    drawHint: '在地图上点击添加顶点；双击或点“完成”结束。', paste: '粘贴坐标', pasteCRS: '坐标系', usePaste: '使用',
    depth: '深度（米）', width: '沟槽宽度（米）', workType: '作业类型', start: '开始', end: '结束', submit: '核查开挖',
    result: '结果', conflicts: '冲突（按权属单位）', notify: '需通知的权属单位', hidden: '不可见管线',
    downloads: '下载', svgMap: 'SVG 图', geojson: 'GeoJSON', answer: '答复（JSON）', print: '打印报告',
    badKey: '密钥无效。', loading: '正在加载管线…', loaded: (n) => `视图内 ${n} 段管线`, noLayers: '此密钥无可见图层。',
    severity: '等级', layer: '图层', pipe: '管段', section: '断面', clearM: '净距（米）', requiredM: '要求（米）',
    depthM: '埋深（米）', reaches: '触及', none: '无。',
    verdict: { violation: '发现冲突', ok: '无冲突：净距均满足', notChecked: '未能完全核查' },
    highest: '最高等级', needPoints: (n) => `至少需要 ${n} 个顶点。`, drawn: '开挖范围已就绪。',
    pasteBad: '无法读取坐标：请给出 WKT 或 经度,纬度 列表。', checkId: '核查编号', dataVersion: '数据版本',
    contact: '联系方式', sev: { critical: '严重', high: '高', medium: '中', low: '低' },
    reachesWords: { yes: '是', no: '否', possibly: '可能', unknown: '未知' },
  },
};

const API = new URL('../', window.location.href); // the page is served at /map/
const state = {
  lang: sessionStorage.getItem('subterra.lang') || 'en',
  key: sessionStorage.getItem('subterra.key'),
  collections: [], // what GET /collections listed: the layers this key may see
  layerGroups: {}, // layer code -> L.LayerGroup of its pipes in view
  features: {}, // segment id -> GeoJSON feature (CRS84) drawn or fetched
  mode: null, // 'polygon' | 'line' while drawing
  vertices: [],
  dig: null, // { kind, latlngs, wkt, crs }
  answer: null, answerText: null,
  mapCRS: null,
};
let map, streetLayer, drawLayer, resultLayer, zoneLayer;
// Street corridors drawn under the pipes: the map has no road geometry, but its pipes run
// along the streets, so their union, widened, is the plain street background.
const STREET_WIDTH_M = 14;

const $ = (id) => document.getElementById(id);
const t = (k) => TEXT[state.lang][k];
const layerName = (code) => (LAYER_NAMES[code] ? LAYER_NAMES[code][state.lang === 'zh' ? 1 : 0] : code);
const colour = (code) => {
  const c = LAYER_COLOURS[code] || [128, 128, 128];
  return `rgb(${c[0]},${c[1]},${c[2]})`;
};
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v, d = 2) => (typeof v === 'number' ? v.toFixed(d) : '–');

// MARK: Requests

/** Fetches `path` (relative to the API root) with the key; a 401 sends the user back to login. */
async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${state.key}` }, options.headers || {});
  const response = await fetch(new URL(path, API), Object.assign({}, options, { headers }));
  if (response.status === 401) {
    logout(t('badKey'));
    throw new Error('unauthorized');
  }
  return response;
}

/** The `detail` of a problem+json answer, or the status line. */
async function problem(response) {
  try {
    const p = await response.json();
    return p.detail || `${response.status} ${response.statusText}`;
  } catch (e) {
    return `${response.status} ${response.statusText}`;
  }
}

// MARK: Language

function applyLanguage() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
  for (const el of document.querySelectorAll('[data-i18n]')) {
    const v = t(el.dataset.i18n);
    if (typeof v === 'string') el.textContent = v;
  }
  $('lang').textContent = state.lang === 'zh' ? 'English' : '中文';
  document.title = t('title');
  renderLegend();
  if (document.body.dataset.pipesLoaded === 'true') $('load-status').textContent = t('loaded')(Number(document.body.dataset.pipes));
  if (state.answer) renderAnswer();
}

// MARK: Login

async function login(event) {
  event.preventDefault();
  state.key = $('key').value.trim();
  $('login-error').textContent = '';
  await start();
}

function logout(message) {
  sessionStorage.removeItem('subterra.key');
  state.key = null;
  $('app').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('who').textContent = '';
}

async function start() {
  if (!state.key) return;
  let response;
  try {
    response = await api('collections');
  } catch (e) {
    return;
  }
  if (!response.ok) {
    $('login-error').textContent = await problem(response);
    return;
  }
  sessionStorage.setItem('subterra.key', state.key);
  state.collections = (await response.json()).collections;
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  document.body.dataset.layers = state.collections.map((c) => c.id).join(',');
  try {
    const health = await (await fetch(new URL('health', API))).json();
    state.mapCRS = health.crs;
    if (state.mapCRS && !$('paste-crs').querySelector(`option[value="${state.mapCRS}"]`)) {
      const o = document.createElement('option');
      o.value = state.mapCRS;
      o.textContent = `${state.mapCRS} (map)`;
      $('paste-crs').appendChild(o);
    }
  } catch (e) { /* the map CRS is only offered for pasting */ }
  setUpMap();
  renderLegend();
}

// MARK: Map and pipes

function setUpMap() {
  if (map) {
    map.invalidateSize();
    loadPipes();
    return;
  }
  // No tile layer: a plain background (CSS) under the map's own vector data.
  map = L.map('map', { maxZoom: 23, minZoom: 3, doubleClickZoom: false, zoomSnap: 0.5, preferCanvas: false });
  L.control.scale({ imperial: false }).addTo(map);
  map.attributionControl.setPrefix('Leaflet');
  // Streets in a pane of their own, under every pipe, zone and dig (overlays are at 400).
  map.createPane('streets').style.zIndex = 350;
  streetLayer = L.layerGroup().addTo(map);
  zoneLayer = L.layerGroup().addTo(map);
  for (const c of state.collections) state.layerGroups[c.id] = L.layerGroup().addTo(map);
  resultLayer = L.layerGroup().addTo(map);
  drawLayer = L.layerGroup().addTo(map);
  let bounds = null;
  for (const c of state.collections) {
    const b = c.extent && c.extent.spatial && c.extent.spatial.bbox && c.extent.spatial.bbox[0];
    if (!b) continue;
    const lb = L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
    bounds = bounds ? bounds.extend(lb) : lb;
  }
  if (bounds) map.fitBounds(bounds);
  else map.setView([0, 0], 3);
  map.on('moveend', () => {
    clearTimeout(state.loadTimer);
    state.loadTimer = setTimeout(loadPipes, 150);
  });
  map.on('zoomend', sizeZones);
  map.on('click', (e) => addVertex(e.latlng));
  map.on('dblclick', finishDrawing);
  window.subterra = { map, state, L };
  loadPipes();
}

/** Every visible layer's pipes in the current view (CRS84 bbox, paged by the `next` links). */
async function loadPipes() {
  if (!map || !state.collections.length) {
    $('load-status').textContent = state.collections.length ? '' : t('noLayers');
    return;
  }
  const generation = (state.generation = (state.generation || 0) + 1);
  $('load-status').textContent = t('loading');
  document.body.dataset.pipesLoaded = 'false';
  const b = map.getBounds().pad(0.1);
  const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(7)).join(',');
  let count = 0;
  const inView = [];
  await Promise.all(state.collections.map(async (c) => {
    const features = [];
    let url = `collections/${encodeURIComponent(c.id)}/items?bbox=${bbox}&limit=1000`;
    for (let page = 0; url && page < 50; page++) {
      const response = await api(url);
      if (!response.ok) break;
      const fc = await response.json();
      features.push(...fc.features);
      const next = (fc.links || []).find((l) => l.rel === 'next');
      url = next ? next.href : null;
    }
    if (generation !== state.generation) return;
    const group = state.layerGroups[c.id];
    group.clearLayers();
    for (const f of features) {
      state.features[f.id] = f;
      group.addLayer(L.geoJSON(f, {
        style: { color: colour(c.id), weight: 3, opacity: 0.9, className: `pipe layer-${c.id}` },
      }).bindTooltip(() => pipeTooltip(f)));
    }
    count += features.length;
    inView.push(...features);
  }));
  if (generation !== state.generation) return;
  streetLayer.clearLayers();
  streetLayer.addLayer(L.geoJSON({ type: 'FeatureCollection', features: inView }, {
    interactive: false, pane: 'streets',
    style: { color: '#dedacd', opacity: 1, lineCap: 'round', lineJoin: 'round', className: 'street' },
  }));
  sizeZones();
  $('load-status').textContent = t('loaded')(count);
  document.body.dataset.pipesLoaded = 'true';
  document.body.dataset.pipes = String(count);
}

function pipeTooltip(f) {
  const p = f.properties || {};
  const rows = [`${esc(layerName(p.layer))} #${esc(f.id)}`];
  for (const k of ['owner', 'section', 'startDepth', 'gasPressureMPa', 'voltageKV', 'road']) {
    if (p[k] !== undefined) rows.push(`${esc(k)}: ${esc(p[k])}`);
  }
  return rows.join('<br>');
}

function renderLegend() {
  const ul = $('legend');
  ul.innerHTML = '';
  for (const c of state.collections) {
    const li = document.createElement('li');
    li.dataset.layer = c.id;
    li.innerHTML = `<span class="swatch" style="background:${colour(c.id)}"></span>${esc(c.id)} ${esc(layerName(c.id))}`;
    ul.appendChild(li);
  }
}

// MARK: Drawing and pasting

function startDrawing(kind) {
  state.mode = kind;
  state.vertices = [];
  state.dig = null;
  $('draw-polygon').classList.toggle('active', kind === 'polygon');
  $('draw-line').classList.toggle('active', kind === 'line');
  $('width-label').hidden = kind !== 'line';
  $('finish').disabled = false;
  $('submit').disabled = true;
  $('dig-error').textContent = '';
  redrawDig();
}

function addVertex(latlng) {
  if (!state.mode) return;
  const last = state.vertices[state.vertices.length - 1];
  // A double-click also sends two clicks: a vertex within 4 px of the last one is the same.
  if (last && map.latLngToContainerPoint(last).distanceTo(map.latLngToContainerPoint(latlng)) < 4) return;
  state.vertices.push(latlng);
  redrawDig();
}

function finishDrawing() {
  if (!state.mode) return;
  const kind = state.mode;
  const need = kind === 'polygon' ? 3 : 2;
  if (state.vertices.length < need) {
    $('dig-error').textContent = t('needPoints')(need);
    return;
  }
  setDig(kind, state.vertices.map((v) => [v.lng, v.lat]), 'OGC:CRS84');
}

/** The dig to submit: `coords` [lon, lat] (or map CRS x, y) without the closing vertex. */
function setDig(kind, coords, crs, wkt) {
  state.mode = null;
  $('draw-polygon').classList.remove('active');
  $('draw-line').classList.remove('active');
  $('finish').disabled = true;
  $('width-label').hidden = kind !== 'line';
  const ring = kind === 'polygon' ? coords.concat([coords[0]]) : coords;
  const text = ring.map((c) => `${c[0].toFixed(8)} ${c[1].toFixed(8)}`).join(', ');
  state.dig = {
    kind, crs,
    latlngs: crs === 'OGC:CRS84' ? coords.map((c) => L.latLng(c[1], c[0])) : null,
    wkt: wkt || (kind === 'polygon' ? `POLYGON ((${text}))` : `LINESTRING (${text})`),
  };
  state.vertices = [];
  $('submit').disabled = false;
  $('dig-error').textContent = t('drawn');
  redrawDig();
}

function redrawDig() {
  if (!drawLayer) return;
  drawLayer.clearLayers();
  const style = { color: '#1565c0', weight: 2, fillOpacity: 0.15, dashArray: '4 3', className: 'dig-area' };
  if (state.mode) {
    for (const v of state.vertices) drawLayer.addLayer(L.circleMarker(v, { radius: 4, color: '#1565c0' }));
    if (state.vertices.length > 1) drawLayer.addLayer(L.polyline(state.vertices, style));
  } else if (state.dig && state.dig.latlngs) {
    drawLayer.addLayer(state.dig.kind === 'polygon' ? L.polygon(state.dig.latlngs, style) : L.polyline(state.dig.latlngs, style));
  }
}

/** Reads pasted WKT (POLYGON / LINESTRING) or a list of lon,lat pairs. */
function usePaste() {
  const text = $('paste').value.trim();
  const crs = $('paste-crs').value;
  const numbers = (s) => (s.match(/-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g) || []).map(Number);
  const pairs = (ns) => {
    const out = [];
    for (let i = 0; i + 1 < ns.length; i += 2) out.push([ns[i], ns[i + 1]]);
    return out;
  };
  let kind, coords, wkt;
  const m = /^\s*(POLYGON|LINESTRING)\s*\(/i.exec(text);
  if (m) {
    kind = m[1].toUpperCase() === 'POLYGON' ? 'polygon' : 'line';
    // Only the outer ring is drawn; the text goes to the server as written (holes included).
    const first = kind === 'polygon' ? text.slice(text.indexOf('(') + 1).split(')')[0] : text;
    coords = pairs(numbers(first));
    wkt = text;
  } else {
    coords = pairs(numbers(text));
    kind = state.mode === 'line' || coords.length === 2 ? 'line' : 'polygon';
  }
  if (kind === 'polygon' && coords.length > 1) {
    const [a, b] = [coords[0], coords[coords.length - 1]];
    if (a[0] === b[0] && a[1] === b[1]) coords.pop();
  }
  if (coords.length < (kind === 'polygon' ? 3 : 2) || coords.some((c) => !isFinite(c[0]) || !isFinite(c[1]))) {
    $('dig-error').textContent = t('pasteBad');
    return;
  }
  setDig(kind, coords, crs, wkt);
  if (state.dig.latlngs) map.fitBounds(L.latLngBounds(state.dig.latlngs).pad(2));
}

// MARK: Dig check

async function submitDig(event) {
  event.preventDefault();
  if (!state.dig) return;
  const body = { geometry: state.dig.wkt, crs: state.dig.crs, depth: Number($('depth').value) };
  if (state.dig.kind === 'line') body.width = Number($('width').value);
  const workType = $('work-type').value.trim();
  if (workType) body.workType = workType;
  if ($('start').value) body.startDate = $('start').value;
  if ($('end').value) body.endDate = $('end').value;
  $('submit').disabled = true;
  $('dig-error').textContent = '';
  document.body.dataset.answer = 'pending';
  try {
    const key = window.crypto && crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
    const response = await api('dig-checks', {
      method: 'POST', body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
    });
    if (!response.ok) {
      $('dig-error').textContent = await problem(response);
      document.body.dataset.answer = 'refused';
      return;
    }
    state.answerText = await response.text();
    state.answer = JSON.parse(state.answerText);
    await fetchConflictGeometry();
    renderAnswer();
    document.body.dataset.answer = 'shown';
  } catch (e) {
    if (e.message !== 'unauthorized') $('dig-error').textContent = String(e);
    document.body.dataset.answer = 'failed';
  } finally {
    $('submit').disabled = !state.dig;
  }
}

const allConflicts = () => (state.answer.conflictsByOwner || []).flatMap((g) => g.conflicts || []);

/** Geometry of every conflicting pipe not drawn yet (the answer names ids, not lines). */
async function fetchConflictGeometry() {
  await Promise.all(allConflicts().map(async (c) => {
    if (state.features[c.pipeID] || !c.layer) return;
    const r = await api(`collections/${encodeURIComponent(c.layer)}/items/${c.pipeID}`);
    if (r.ok) state.features[c.pipeID] = await r.json();
  }));
}

function renderAnswer() {
  const a = state.answer;
  $('result').hidden = false;
  const v = $('verdict');
  v.className = a.result || '';
  const words = t('verdict')[a.result] || a.result;
  v.textContent = `${words}${a.highestSeverity ? ` — ${t('highest')}: ${t('sev')[a.highestSeverity] || a.highestSeverity}` : ''}`
    + ` (${t('checkId')} ${a.id}, ${t('dataVersion')} ${a.dataVersion})`;

  const box = $('conflicts');
  box.innerHTML = '';
  const groups = a.conflictsByOwner || [];
  if (!groups.length) box.textContent = t('none');
  for (const g of groups) {
    const div = document.createElement('div');
    div.className = 'owner-group';
    div.dataset.owner = g.owner;
    const rows = (g.conflicts || []).map((c) => `<tr id="conflict-${esc(c.pipeID)}" data-severity="${esc(c.severity)}" data-layer="${esc(c.layer)}" data-pipe="${esc(c.pipeID)}">
      <td><span class="sev sev-${esc(c.severity)}">${esc(t('sev')[c.severity] || c.severity)}</span></td>
      <td><span class="swatch" style="background:${colour(c.layer)}"></span>${esc(layerName(c.layer))}</td>
      <td>${esc(c.pipeID)}</td><td>${esc(c.section || '')}</td>
      <td>${fmt(c.clearDistance)}</td><td>${fmt(c.requiredClearance)}</td><td>${fmt(c.depth)}</td>
      <td>${esc((t('reachesWords')[c.reaches]) || c.reaches || '')}</td></tr>`).join('');
    div.innerHTML = `<h4><span class="sev sev-${esc(g.highestSeverity)}">${esc(t('sev')[g.highestSeverity] || g.highestSeverity)}</span> ${esc(g.owner)}</h4>
      <table class="conflicts"><thead><tr><th>${t('severity')}</th><th>${t('layer')}</th><th>${t('pipe')}</th><th>${t('section')}</th>
      <th>${t('clearM')}</th><th>${t('requiredM')}</th><th>${t('depthM')}</th><th>${t('reaches')}</th></tr></thead><tbody>${rows}</tbody></table>`;
    box.appendChild(div);
  }
  for (const tr of box.querySelectorAll('tr[data-pipe]')) tr.addEventListener('click', () => zoomToPipe(tr.dataset.pipe));

  const owners = $('owners');
  owners.innerHTML = '';
  for (const o of a.ownersToNotify || []) {
    const li = document.createElement('li');
    li.dataset.severity = o.highestSeverity;
    li.innerHTML = `<span class="sev sev-${esc(o.highestSeverity)}">${esc(t('sev')[o.highestSeverity] || o.highestSeverity)}</span> ${esc(o.owner)}${o.contact ? ` — ${t('contact')}: ${esc(o.contact)}` : ''}`;
    owners.appendChild(li);
  }
  if (!(a.ownersToNotify || []).length) owners.innerHTML = `<li>${t('none')}</li>`;

  const hidden = a.hiddenUtilities || [];
  $('hidden-box').hidden = hidden.length === 0;
  $('hidden').innerHTML = hidden.map((h) => `<li class="hidden-utility" data-owner="${esc(h.owner)}"><b>${esc(h.owner)}</b>${h.contact ? ` — ${esc(h.contact)}` : ''}<br>${esc(h.message)}</li>`).join('');
  drawAnswer();
}

/** Conflicting pipes in their severity colour over a translucent clearance zone each. */
function drawAnswer() {
  resultLayer.clearLayers();
  zoneLayer.clearLayers();
  for (const c of allConflicts()) {
    const f = state.features[c.pipeID];
    if (!f) continue;
    const colourOf = SEVERITY_COLOURS[c.severity] || '#b00020';
    if (typeof c.requiredClearance === 'number') {
      // The zone the dig must keep out of: the pipe's wall widened by the required clear
      // distance, i.e. a round-capped stroke of that half-width around the centreline.
      const half = c.requiredClearance + (c.outerWidth || 0) / 2;
      const zone = L.geoJSON(f, { style: { color: colourOf, opacity: 0.18, lineCap: 'round', lineJoin: 'round', className: 'clearance-zone' } });
      zone.halfWidthM = half;
      zoneLayer.addLayer(zone);
    }
    resultLayer.addLayer(L.geoJSON(f, {
      style: { color: colourOf, weight: 7, opacity: 0.95, className: `conflict severity-${c.severity}` },
    }).bindTooltip(`${esc(t('sev')[c.severity] || c.severity)} · ${esc(layerName(c.layer))} #${esc(c.pipeID)}`));
  }
  sizeZones();
  redrawDig();
}

/** Stroke widths in pixels of the clearance zones and street corridors at the current zoom. */
function sizeZones() {
  if (!zoneLayer) return;
  const lat = map.getCenter().lat;
  const metresPerPixel = (40075016.686 * Math.cos((lat * Math.PI) / 180)) / 2 ** (map.getZoom() + 8);
  zoneLayer.eachLayer((zone) => zone.setStyle({ weight: Math.max(2, (2 * zone.halfWidthM) / metresPerPixel) }));
  streetLayer.eachLayer((streets) => streets.setStyle({ weight: Math.max(4, STREET_WIDTH_M / metresPerPixel) }));
}

function zoomToPipe(id) {
  const f = state.features[id];
  if (f) map.fitBounds(L.geoJSON(f).getBounds().pad(0.5));
}

// MARK: Downloads

function save(name, type, text) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

/** A link of the answer with `type` (when the server gives one). */
const answerLink = (type) => ((state.answer && state.answer.links) || []).find((l) => l.type && l.type.startsWith(type));

async function download(type, name, local) {
  const link = answerLink(type);
  if (link) {
    const r = await api(link.href);
    if (r.ok) return save(name, type, await r.text());
  }
  save(name, type, local());
}

/** The dig area and the conflicting pipes, with the conflict members as properties (CRS84). */
function answerGeoJSON() {
  const features = [];
  if (state.dig && state.dig.latlngs) {
    const coords = state.dig.latlngs.map((l) => [l.lng, l.lat]);
    features.push({
      type: 'Feature', id: 'dig',
      geometry: state.dig.kind === 'polygon' ? { type: 'Polygon', coordinates: [coords.concat([coords[0]])] } : { type: 'LineString', coordinates: coords },
      properties: { role: 'dig', depth: state.answer.plannedDepth, workType: state.answer.workType, check: state.answer.id },
    });
  }
  for (const c of allConflicts()) {
    const f = state.features[c.pipeID];
    if (!f) continue;
    const props = {};
    for (const [k, v] of Object.entries(c)) if (v === null || typeof v !== 'object') props[k] = v;
    features.push({ type: 'Feature', id: c.pipeID, geometry: f.geometry, properties: Object.assign({ role: 'conflict' }, props) });
  }
  return JSON.stringify({ type: 'FeatureCollection', features }, null, 1);
}

/** The map's vector overlay as drawn (Leaflet's SVG renderer), on the page's background. */
function mapSVG() {
  const svg = map.getPanes().overlayPane.querySelector('svg');
  const copy = svg.cloneNode(true);
  copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  copy.removeAttribute('style');
  const [x, y, w, h] = (copy.getAttribute('viewBox') || '0 0 100 100').split(' ');
  const bg = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  for (const [k, v] of Object.entries({ x, y, width: w, height: h, fill: '#f3f1ea' })) bg.setAttribute(k, v);
  copy.insertBefore(bg, copy.firstChild);
  return new XMLSerializer().serializeToString(copy);
}

// MARK: Wiring

function init() {
  $('login').addEventListener('submit', login);
  $('logout').addEventListener('click', () => logout(''));
  $('lang').addEventListener('click', () => {
    state.lang = state.lang === 'zh' ? 'en' : 'zh';
    sessionStorage.setItem('subterra.lang', state.lang);
    applyLanguage();
  });
  $('draw-polygon').addEventListener('click', () => startDrawing('polygon'));
  $('draw-line').addEventListener('click', () => startDrawing('line'));
  $('finish').addEventListener('click', finishDrawing);
  $('clear').addEventListener('click', () => {
    state.mode = null;
    state.vertices = [];
    state.dig = null;
    $('submit').disabled = true;
    $('finish').disabled = true;
    $('dig-error').textContent = '';
    redrawDig();
  });
  $('paste-use').addEventListener('click', usePaste);
  $('dig-form').addEventListener('submit', submitDig);
  $('dl-svg').addEventListener('click', () => download('image/svg+xml', `dig-${state.answer.id}.svg`, mapSVG));
  $('dl-geojson').addEventListener('click', () => download('application/geo+json', `dig-${state.answer.id}.geojson`, answerGeoJSON));
  $('dl-json').addEventListener('click', () => save(`dig-${state.answer.id}.json`, 'application/json', state.answerText));
  $('print').addEventListener('click', () => window.print());
  applyLanguage();
  if (state.key) start();
}

init();
