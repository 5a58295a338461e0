import * as THREE from 'three';
import { MachineField, PLINTH, sizeOf } from './MachineField.js';
import { MachineModels } from './MachineModels.js';
import { Labels } from './Labels.js';
import { surfaceMaterial } from './MeshStyles.js';
import { BodyBatch } from './BodyBatch.js';
import { escape } from './WorldView.js';

const PLACED = new Set(['machine', 'buffer', 'conveyor']);
const LAYOUT_PROPERTIES = new Set(['position', 'heading', 'footprint', 'size', 'model', 'location', 'kind', 'name', 'type']);
// Flat, unlit colours for the floor and its patches: a level surface is evenly lit by the
// scene's lights anyway, so these are the lit colours, at a fraction of the per-pixel cost
// (measured in software WebGL: a close-up of the floor 178 → 63 ms a frame).
const FLOOR_COLOUR = '#30373f';
const PATCH_COLOURS = Object.freeze({ area: '#374655', line: '#405162' });
const PATCH_HEIGHT = Object.freeze({ area: 0.02, line: 0.03 });
const PATCH_PAD = Object.freeze({ area: 3, line: 1.5 });
// Line names are shown for the nearest lines only (level of detail for text).
const LINE_LABELS = Object.freeze({ max: 16, within: 160 });
// At most this many grid cells across the floor, whatever the size of the site.
const GRID_CELLS = 60;
const AVATAR_COLOURS = Object.freeze({ operator: '#4fa3ff', technician: '#f6c344', engineer: '#b07cff', manager: '#e6e9ec' });

// A site generated from its twin: floor, areas, lines, machines by kind, buffers with their
// WIP, conveyors, people as avatars and pinned annotations. Entities without a position are
// laid out along their line (one row per line), so any twin can be entered.
export class FactoryView {
  constructor(data, { onSelect, onMoved, token = null }) {
    this.data = data;
    this.token = token; // for the glTF models served with the twin
    this.onSelect = onSelect;
    this.onMoved = onMoved;
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color('#11171d');
    this.field = null; // made in attach(), when the renderer is known
    this.models = null;
    this.labels = new Labels(); // pinned notes: few, always shown
    this.lineLabels = new Labels(); // one per line: many, shown near the camera only
    this.pins = new Map(); // annotation id -> sprite
    this.moving = null; // entity id being dragged
    this.moveMode = false;
    this.ready = false;
    this.changed = false;
  }

  attach(host) {
    this.host = host;
    const cheap = host.software;
    this.field = new MachineField({ cheap });
    const items = layout(this.data);
    this.items = new Map(items.map((i) => [i.id, i]));
    const placed = items.filter((i) => PLACED.has(i.kind));
    this.field.build(placed);
    this.models = new MachineModels({ token: this.token, base: PLINTH, onPlaced: (id) => { this.field.setModelled(id); host.invalidate(); } });
    this.models.load(placed.filter((i) => i.kind === 'machine' && i.model));
    const s = this.scene;
    s.add(new THREE.HemisphereLight('#ffffff', '#445', 2.0));
    const sun = new THREE.DirectionalLight('#ffffff', 1.6);
    sun.position.set(30, 60, 20);
    s.add(sun);
    const box = bounds(placed);
    this.bounds = box;
    const floor = new THREE.Mesh(new THREE.PlaneGeometry(box.w + 16, box.d + 16), new THREE.MeshBasicMaterial({ color: FLOOR_COLOUR }));
    floor.name = 'floor';
    floor.rotation.x = -Math.PI / 2;
    floor.position.set(box.cx, 0, -box.cy);
    s.add(floor);
    // Grid lines rather than a textured floor: lines cost only the pixels they cover.
    const extent = Math.max(box.w, box.d) + 16;
    const cell = gridCell(extent);
    const grid = new THREE.GridHelper(Math.ceil(extent / cell) * cell, Math.ceil(extent / cell), '#3a444e', '#30383f');
    grid.position.set(box.cx, 0.01, -box.cy);
    s.add(grid);
    this.#areas(items);
    s.add(this.field.group, this.models.group);
    this.#people(items, cheap);
    s.add(this.lineLabels.group);
    s.add(this.labels.group);
    const span = Math.max(box.w, box.d, 20);
    host.camera.position.set(box.cx - span * 0.15, span * 0.55, -box.cy + span * 0.75);
    host.controls.target.set(box.cx, 0, -box.cy);
    const el = host.renderer.domElement;
    this.onDown = (e) => this.#down(e);
    this.onMove = (e) => this.#move(e);
    this.onUp = (e) => this.#up(e);
    el.addEventListener('pointerdown', this.onDown);
    el.addEventListener('pointermove', this.onMove);
    el.addEventListener('pointerup', this.onUp);
    this.ready = true;
  }

  // The floor patches of areas and lines, all in one mesh (one draw call for a hundred lines).
  #areas(items) {
    const patches = [];
    for (const group of items.filter((i) => i.kind === 'line' || i.kind === 'area')) {
      const members = group.members.map((id) => this.items.get(id)).filter((i) => i && PLACED.has(i.kind));
      if (!members.length) continue;
      const b = bounds(members);
      const pad = PATCH_PAD[group.kind];
      patches.push({ x0: b.x0 - pad, x1: b.x1 + pad, y0: b.y0 - pad, y1: b.y1 + pad, height: PATCH_HEIGHT[group.kind], colour: PATCH_COLOURS[group.kind] });
      if (group.kind === 'line') this.lineLabels.add(group.name, new THREE.Vector3(b.x0 - pad, 0.5, -(b.y1 + pad)), { size: 1.2 });
    }
    if (!patches.length) return;
    const floorPlan = new THREE.Mesh(patchGeometry(patches), new THREE.MeshBasicMaterial({ vertexColors: true }));
    floorPlan.name = 'floor-plan';
    this.scene.add(floorPlan);
  }

  #people(items, cheap) {
    const people = items.filter((i) => i.kind === 'person');
    if (!people.length) return;
    // Drawn as one batch; the instanced mesh is only for picking (see BodyBatch).
    const body = new THREE.InstancedMesh(new THREE.CapsuleGeometry(0.25, 1.1, 4, 8).translate(0, 0.8, 0), new THREE.MeshBasicMaterial(), people.length);
    body.name = 'people';
    body.visible = false;
    const parts = people.map((p, i) => {
      const matrix = new THREE.Matrix4().makeTranslation(p.position[0], 0, -p.position[1]);
      const colour = new THREE.Color(AVATAR_COLOURS[p.role] ?? '#cccccc');
      body.setMatrixAt(i, matrix);
      body.setColorAt(i, colour);
      return { geometry: body.geometry, matrix, colour };
    });
    const batch = new BodyBatch(parts, surfaceMaterial(cheap, { vertexColors: true }));
    batch.mesh.name = 'people:batch';
    this.people = { mesh: body, batch, ids: people.map((p) => p.id) };
    this.scene.add(body, batch.mesh);
  }

  pickables() { return [...this.models.pickables(), ...this.field.pickables(), ...(this.people ? [this.people.mesh] : [])]; }

  idAt(event) { return this.idOfHit(this.host.pick(event, this.pickables())); }

  // The entity a raycast hit stands for: a person, a machine's model or a field instance.
  idOfHit(hit) {
    if (!hit) return null;
    if (hit.object.name === 'people') return this.people.ids[hit.instanceId];
    return this.models.idOf(hit) ?? this.field.idOf(hit);
  }

  #down(e) {
    const id = this.idAt(e);
    if (id && this.moveMode && this.field.has(id)) {
      this.moving = id;
      this.host.controls.enabled = false;
      return;
    }
    this.downAt = [e.clientX, e.clientY];
  }

  #move(e) {
    if (this.moving) {
      const p = this.host.floorPoint(e);
      if (p) this.#moveTo(this.moving, round(p.x), round(-p.z));
      return;
    }
    const id = this.idAt(e);
    this.hovered = id;
    const tip = document.getElementById('tooltip');
    if (!id) { tip.hidden = true; return; }
    const it = this.items.get(id);
    const live = ['state', 'parts', 'level', 'alarm'].filter((k) => it[k] !== undefined).map((k) => `${k}: ${escape(it[k])}`).join(' · ');
    tip.innerHTML = `<b>${escape(it.name)}</b><br>${escape(it.type ?? it.kind)}${it.capacity !== undefined ? ` · capacity ${it.capacity}` : ''}${live ? `<br>${live}` : ''}`;
    tip.style.left = `${e.offsetX + 14}px`;
    tip.style.top = `${e.offsetY + 14}px`;
    tip.hidden = false;
  }

  #up(e) {
    if (this.moving) {
      const id = this.moving;
      this.moving = null;
      this.host.controls.enabled = true;
      this.onMoved(id, this.field.item(id).position.slice(0, 2));
      return;
    }
    if (this.downAt && Math.hypot(e.clientX - this.downAt[0], e.clientY - this.downAt[1]) < 5) {
      const id = this.idAt(e);
      if (id) this.onSelect(id);
    }
    this.downAt = null;
  }

  // A live value of an entity changed (from /live, an edit, or the timeline).
  // Layout arrives in scene form from the scene and design edits ([x, y] metres, degrees);
  // /live snapshots carry the twin's own form ({x: {$q: …}}), which must not replace it.
  applyChange(entity, property, value) {
    const it = this.items?.get(entity);
    if (!it) return false;
    if (property === 'position') {
      if (Array.isArray(value)) this.#moveTo(entity, value[0], value[1]);
      return Array.isArray(value);
    }
    if (property === 'heading' && typeof value === 'number' && it.position) {
      it.heading = value;
      this.#moveTo(entity, it.position[0], it.position[1]);
      return true;
    }
    if (LAYOUT_PROPERTIES.has(property)) return false;
    it[property] = value;
    if (property === 'state') return this.field.setState(entity, value);
    return true;
  }

  // Show a whole other state of the site (a snapshot or the twin as of a past time).
  applyScene(data) {
    for (const e of data.entities) {
      const it = this.items.get(e.id);
      if (!it || !PLACED.has(it.kind)) continue;
      if (e.position && (e.position[0] !== it.position[0] || e.position[1] !== it.position[1])) this.#moveTo(e.id, e.position[0], e.position[1]);
      if ((e.state ?? undefined) !== it.state) this.field.setState(e.id, e.state);
      it.capacity = e.capacity;
      it.version = e.version;
    }
  }

  #moveTo(id, x, y) {
    this.field.moveTo(id, x, y);
    const item = this.field.item(id);
    if (item) { this.models.place(item); this.changed = true; }
  }

  pin(note) {
    const it = this.items.get(note.entity);
    let at;
    if (note.position) at = new THREE.Vector3(note.position[0], note.position[2] ?? 3, -note.position[1]);
    else if (it?.position) at = new THREE.Vector3(it.position[0], sizeOf(it)[2] + 1.6, -it.position[1]);
    else return;
    const text = `📌 ${note.author}: ${note.text.length > 40 ? `${note.text.slice(0, 39)}…` : note.text}`;
    this.pins.set(note.id, this.labels.add(text, at, { size: 0.9, colour: '#ffe08a' }));
    this.changed = true;
  }

  // Per animation frame; true when the view must be drawn again.
  update(camera, target, time, moved) {
    let changed = this.field.update(camera, target, time);
    if (moved || !this.labelsPlaced) {
      this.labelsPlaced = true;
      changed = this.lineLabels.showNearest(camera.position, LINE_LABELS) || changed;
    }
    changed ||= this.changed;
    this.changed = false;
    return changed;
  }

  dispose() {
    const el = this.host?.renderer.domElement;
    if (el) {
      el.removeEventListener('pointerdown', this.onDown);
      el.removeEventListener('pointermove', this.onMove);
      el.removeEventListener('pointerup', this.onUp);
    }
    this.models?.dispose();
    this.field?.dispose();
    this.labels.dispose();
    this.lineLabels.dispose();
    this.scene.traverse((o) => { if (o.isInstancedMesh) o.dispose(); o.geometry?.dispose(); o.material?.map?.dispose(); o.material?.dispose?.(); });
  }
}

const round = (v) => Math.round(v * 10) / 10;

// Grid cell size in metres: 2 m on a small site, coarser (5, 10, 20 … m) on a big one.
function gridCell(extent) {
  for (const cell of [2, 5, 10, 20, 50, 100]) if (extent / cell <= GRID_CELLS) return cell;
  return Math.ceil(extent / GRID_CELLS);
}

// Flat rectangles on the floor as one geometry, each with its colour per vertex.
function patchGeometry(patches) {
  const position = new Float32Array(patches.length * 18);
  const colour = new Float32Array(patches.length * 18);
  const c = new THREE.Color();
  patches.forEach((p, k) => {
    const corners = [[p.x0, p.y0], [p.x1, p.y0], [p.x1, p.y1], [p.x0, p.y0], [p.x1, p.y1], [p.x0, p.y1]];
    c.set(p.colour);
    corners.forEach(([x, y], v) => {
      position.set([x, p.height, -y], 18 * k + 3 * v);
      colour.set([c.r, c.g, c.b], 18 * k + 3 * v);
    });
  });
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.BufferAttribute(position, 3));
  geometry.setAttribute('color', new THREE.BufferAttribute(colour, 3));
  return geometry;
}

function bounds(items) {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const it of items) {
    const [w, d] = sizeOf(it);
    const r = Math.max(w, d) / 2;
    x0 = Math.min(x0, it.position[0] - r); x1 = Math.max(x1, it.position[0] + r);
    y0 = Math.min(y0, it.position[1] - r); y1 = Math.max(y1, it.position[1] + r);
  }
  if (!Number.isFinite(x0)) { x0 = 0; y0 = 0; x1 = 20; y1 = 20; }
  return { x0, y0, x1, y1, w: x1 - x0, d: y1 - y0, cx: (x0 + x1) / 2, cy: (y0 + y1) / 2 };
}

// Scene items with positions: the twin's where given, else generated along the line.
export function layout({ entities, relations }) {
  const items = entities.map((e) => ({ ...e, members: [] }));
  const byId = new Map(items.map((i) => [i.id, i]));
  const feeds = new Map();
  const fedBy = new Map();
  for (const [source, kind, target] of relations) {
    if (kind === 'contains' && byId.has(source)) byId.get(source).members.push(target);
    if (kind === 'feeds') {
      if (!feeds.has(source)) feeds.set(source, []);
      feeds.get(source).push(target);
      if (!fedBy.has(target)) fedBy.set(target, []);
      fedBy.get(target).push(source);
    }
  }
  // Areas hold lines: give areas the placed members of their lines too.
  for (const area of items.filter((i) => i.kind === 'area')) {
    area.members = area.members.flatMap((id) => [id, ...(byId.get(id)?.members ?? [])]);
  }
  let row = 0;
  for (const line of items.filter((i) => i.kind === 'line')) {
    const machines = line.members.map((id) => byId.get(id)).filter((i) => i?.kind === 'machine');
    if (machines.every((m) => m.position)) continue;
    machines.forEach((m, k) => { if (!m.position) m.position = [4 + 6 * k, 6 + 10 * row, 0]; });
    row += 1;
  }
  for (const it of items) {
    if (it.kind !== 'buffer' && it.kind !== 'conveyor') continue;
    const ends = [...(fedBy.get(it.id) ?? []), ...(feeds.get(it.id) ?? [])].map((id) => byId.get(id)).filter((e) => e?.position);
    if (!it.position && ends.length) {
      it.position = [0, 1].map((k) => ends.reduce((s, e) => s + e.position[k], 0) / ends.length).concat([0]);
    }
    if (it.kind === 'conveyor' && ends.length >= 2) {
      const [a, b] = [ends[0].position, ends[ends.length - 1].position];
      const length = it.length ?? Math.hypot(b[0] - a[0], b[1] - a[1]);
      it.size = [length, 1.0, 1.0];
      it.heading = THREE.MathUtils.radToDeg(Math.atan2(b[1] - a[1], b[0] - a[0]));
    }
  }
  // People stand by a machine of their site, spread along the aisles.
  const machines = items.filter((i) => i.kind === 'machine' && i.position);
  items.filter((i) => i.kind === 'person').forEach((p, k) => {
    const m = machines.length ? machines[k % machines.length] : null;
    const base = m ? m.position : [k * 2, -4];
    p.position = p.position ?? [base[0] + 1.5 * Math.cos(k), base[1] - 2.2 - (k % 3) * 0.6, 0];
  });
  return items.filter((i) => i.position || i.kind === 'line' || i.kind === 'area');
}
