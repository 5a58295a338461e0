import * as THREE from 'three';
import { STYLES, DEFAULT_SIZE, styleKey, surfaceMaterial } from './MeshStyles.js';
import { colourOfState, ALARM_STATES } from './StateColours.js';
import { BodyBatch } from './BodyBatch.js';

// Level of detail: a machine's detail part (what tells a press from a CNC up close) is drawn
// only within this many metres of the camera; farther away the body box alone stands for it.
export const DETAIL_DISTANCE = 70;
// The camera must move this far before the near set is worked out again.
const DETAIL_STEP = 4;
// Height in metres of the body of a machine drawn with its own model: a plinth in the live colour.
export const PLINTH = 0.12;
const _m = new THREE.Matrix4();
const _q = new THREE.Quaternion();
const _s = new THREE.Vector3();
const _p = new THREE.Vector3();
const _up = new THREE.Vector3(0, 1, 0);
const _c = new THREE.Color();

// Machines, buffers and conveyors: their bodies, coloured by live state, drawn as one batch
// (BodyBatch, one draw call for the whole site); the detail parts of the machines near the
// camera as one instanced mesh per kind; alarms as blinking beacons. One InstancedMesh per
// style holds each body's placement and colour for picking (it is not drawn).
//
// Changes (state, position) are only recorded when they arrive; update(), once per animation
// frame, uploads the changed ranges once and says whether anything needs drawing, so a burst
// of live updates costs one upload per frame, not one per change.
export class MachineField {
  constructor({ cheap = false } = {}) {
    this.cheap = cheap; // Lambert instead of physically based shading (software rasteriser)
    this.group = new THREE.Group();
    this.groups = new Map(); // style -> {body, detail, ids, items, details: Float32Array, offset}
    this.batch = null;
    this.index = new Map(); // entity id -> {style, i, item}
    this.beacons = null;
    this.alarms = new Set();
    this.modelled = new Set(); // ids drawn with their own model above a plinth
    this.beaconsDirty = false;
    this.detailsDirty = true;
    this.detailFrom = new THREE.Vector3(Infinity, 0, 0);
    this.blink = null;
  }

  build(items) {
    const byStyle = new Map();
    for (const item of items) {
      const key = styleKey(item);
      if (!byStyle.has(key)) byStyle.set(key, []);
      byStyle.get(key).push(item);
    }
    const parts = [];
    this.proxyMaterial = new THREE.MeshBasicMaterial();
    for (const [key, list] of byStyle) {
      const style = STYLES[key];
      const body = new THREE.InstancedMesh(style.body(), this.proxyMaterial, list.length);
      body.name = `field:${key}`;
      body.visible = false; // a pick proxy: the batch draws the bodies
      let detail = null;
      if (style.detail) {
        detail = new THREE.InstancedMesh(style.detail(), surfaceMaterial(this.cheap, { color: '#c8ced6', metalness: 0.3 }), list.length);
        detail.name = `detail:${key}`;
        detail.count = 0;
        this.group.add(detail);
      }
      const entry = { body, detail, ids: list.map((it) => it.id), items: list, details: detail ? new Float32Array(16 * list.length) : null, offset: parts.length };
      list.forEach((item, i) => {
        this.index.set(item.id, { style: key, i, item });
        this.#place(entry, i, item);
        body.setColorAt(i, _c.set(colourOfState(item.state)));
        parts.push({ geometry: body.geometry, matrix: _m.clone(), colour: _c.clone() });
      });
      this.groups.set(key, entry);
      this.group.add(body);
    }
    this.batch = new BodyBatch(parts, surfaceMaterial(this.cheap, { roughness: 0.7, vertexColors: true }));
    this.batch.mesh.name = 'field:batch';
    this.group.add(this.batch.mesh);
    // Beacons are points (one vertex each, a round sprite): a plant can have hundreds of alarms.
    const beacons = new THREE.BufferGeometry();
    beacons.setAttribute('position', new THREE.BufferAttribute(new Float32Array(3 * Math.max(1, items.length)), 3).setUsage(THREE.DynamicDrawUsage));
    beacons.setDrawRange(0, 0);
    this.beacons = new THREE.Points(beacons, new THREE.PointsMaterial({ color: '#ff2d55', size: 0.8, map: dotTexture(), alphaTest: 0.5 }));
    this.beacons.name = 'beacons';
    this.beacons.frustumCulled = false; // a few hundred points: culling them would cost more
    this.group.add(this.beacons);
    for (const item of items) if (ALARM_STATES.has(item.state)) this.alarms.add(item.id);
    this.#refreshBeacons();
  }

  has(id) { return this.index.has(id); }
  item(id) { return this.index.get(id)?.item; }
  ids() { return [...this.index.keys()]; }

  setState(id, state) {
    const at = this.index.get(id);
    if (!at) return false;
    at.item.state = state;
    const entry = this.groups.get(at.style);
    entry.body.setColorAt(at.i, _c.set(colourOfState(state)));
    this.batch.setColorAt(entry.offset + at.i, _c);
    const wasAlarm = this.alarms.has(id);
    if (ALARM_STATES.has(state)) this.alarms.add(id); else this.alarms.delete(id);
    if (wasAlarm !== this.alarms.has(id)) this.beaconsDirty = true;
    return true;
  }

  colourOf(id) {
    const at = this.index.get(id);
    if (!at) return null;
    this.groups.get(at.style).body.getColorAt(at.i, _c);
    return `#${_c.getHexString()}`;
  }

  moveTo(id, x, y) {
    const at = this.index.get(id);
    if (!at) return;
    at.item.position = [x, y, at.item.position?.[2] ?? 0];
    const entry = this.groups.get(at.style);
    this.#place(entry, at.i, at.item);
    this.batch.setMatrixAt(entry.offset + at.i, _m);
    entry.body.instanceMatrix.needsUpdate = true;
    entry.body.boundingSphere = null; // recomputed for culling and picking
    this.beaconsDirty = true;
    this.detailsDirty = true;
  }

  // The machine is drawn with its own model now: its body becomes a plinth, without details.
  setModelled(id) {
    const at = this.index.get(id);
    if (!at || this.modelled.has(id)) return;
    this.modelled.add(id);
    const entry = this.groups.get(at.style);
    this.#place(entry, at.i, at.item);
    this.batch.setMatrixAt(entry.offset + at.i, _m);
    entry.body.instanceMatrix.needsUpdate = true;
    entry.body.boundingSphere = null;
    this.detailsDirty = true;
  }

  isModelled(id) { return this.modelled.has(id); }

  // The entity under a raycast hit, or null.
  idOf(hit) {
    if (!hit || hit.instanceId === undefined) return null;
    const key = hit.object.name.startsWith('field:') ? hit.object.name.slice(6) : null;
    return key ? this.groups.get(key)?.ids[hit.instanceId] ?? null : null;
  }

  pickables() { return [...this.groups.values()].map((e) => e.body); }

  // How many detail parts are drawn now (the level of detail at work).
  detailCount() { return [...this.groups.values()].reduce((n, e) => n + (e.detail?.count ?? 0), 0); }

  // Per animation frame: upload changed bodies once, pick the details near the camera,
  // blink alarms. True when the field looks different from the last frame drawn.
  update(camera, target, time) {
    let changed = this.batch.flush();
    if (this.beaconsDirty) { this.#refreshBeacons(); changed = true; }
    if (this.detailsDirty || camera.position.distanceTo(this.detailFrom) > DETAIL_STEP) {
      this.#nearDetails(camera.position);
      changed = true;
    }
    const blink = this.alarmCount() > 0 && Math.floor(time * 2) % 2 === 0;
    if (blink !== this.blink) { this.blink = blink; this.beacons.visible = blink; changed = true; }
    return changed;
  }

  // Fill each kind's detail mesh with the instances near the camera only.
  #nearDetails(eye) {
    this.detailsDirty = false;
    this.detailFrom.copy(eye);
    const reach = DETAIL_DISTANCE + DETAIL_STEP;
    for (const entry of this.groups.values()) {
      if (!entry.detail) continue;
      const out = entry.detail.instanceMatrix.array;
      let n = 0;
      entry.items.forEach((item, i) => {
        const [x, y] = item.position ?? [0, 0];
        if (this.modelled.has(item.id)) return;
        if (Math.hypot(x - eye.x, (item.position?.[2] ?? 0) - eye.y, -y - eye.z) > reach) return;
        out.set(entry.details.subarray(16 * i, 16 * i + 16), 16 * n);
        n += 1;
      });
      entry.detail.count = n;
      entry.detail.instanceMatrix.clearUpdateRanges();
      if (n) entry.detail.instanceMatrix.addUpdateRange(0, 16 * n);
      entry.detail.instanceMatrix.needsUpdate = true;
      entry.detail.boundingSphere = null; // three recomputes it from the drawn instances
    }
  }

  #place(entry, i, item) {
    const [w, d, h] = sizeOf(item);
    const [x, y, z] = item.position ?? [0, 0, 0];
    const heading = THREE.MathUtils.degToRad(item.heading ?? 0);
    _q.setFromAxisAngle(_up, heading);
    _p.set(x, z ?? 0, -y);
    if (entry.details) _m.compose(_p, _q, _s.set(w, h, d)).toArray(entry.details, 16 * i);
    _s.set(w, this.modelled.has(item.id) ? PLINTH : h * (STYLES[styleKey(item)].bodyHeight ?? 1), d);
    entry.body.setMatrixAt(i, _m.compose(_p, _q, _s)); // _m: the body's matrix, for the caller
  }

  // How many alarm beacons are shown.
  alarmCount() { return this.beacons.geometry.drawRange.count; }

  #refreshBeacons() {
    this.beaconsDirty = false;
    const position = this.beacons.geometry.attributes.position;
    let n = 0;
    for (const id of this.alarms) {
      const item = this.index.get(id)?.item;
      if (!item) continue;
      const [x, y] = item.position ?? [0, 0];
      position.setXYZ(n++, x, sizeOf(item)[2] + 0.8, -y);
    }
    this.beacons.geometry.setDrawRange(0, n);
    position.clearUpdateRanges();
    if (n) position.addUpdateRange(0, 3 * n);
    position.needsUpdate = true;
  }

  dispose() {
    for (const entry of this.groups.values()) {
      for (const mesh of [entry.body, entry.detail]) {
        if (!mesh) continue;
        mesh.geometry.dispose();
        mesh.material.dispose();
        mesh.dispose();
      }
    }
    this.batch?.dispose();
    if (this.beacons) { this.beacons.geometry.dispose(); this.beacons.material.map.dispose(); this.beacons.material.dispose(); }
    this.groups.clear();
    this.index.clear();
    this.group.clear();
  }
}

// A round spot for the beacons, drawn once on a small canvas.
function dotTexture() {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 32;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.beginPath();
  ctx.arc(16, 16, 14, 0, 2 * Math.PI);
  ctx.fill();
  return new THREE.CanvasTexture(canvas);
}

export function sizeOf(item) {
  const fallback = DEFAULT_SIZE[item.kind] ?? DEFAULT_SIZE.machine;
  const size = item.size ?? [];
  return [0, 1, 2].map((k) => size[k] ?? fallback[k]);
}
