import * as THREE from 'three';
import { STYLES, DEFAULT_SIZE, styleKey } from './MeshStyles.js';
import { colourOfState, ALARM_STATES } from './StateColours.js';

const LOD_DISTANCE = 90; // metres: beyond it only the bodies are drawn
const _m = new THREE.Matrix4();
const _q = new THREE.Quaternion();
const _s = new THREE.Vector3();
const _p = new THREE.Vector3();
const _up = new THREE.Vector3(0, 1, 0);
const _c = new THREE.Color();

// Machines, buffers and conveyors as instanced meshes, one per style: a draw call or two per
// kind however many machines there are. Colours follow the live state of each instance.
export class MachineField {
  constructor() {
    this.group = new THREE.Group();
    this.groups = new Map(); // style -> {body, detail, ids}
    this.index = new Map(); // entity id -> {style, i, item}
    this.beacons = null;
    this.alarms = new Set();
    this.dirty = new Set();
  }

  build(items) {
    const byStyle = new Map();
    for (const item of items) {
      const key = styleKey(item);
      if (!byStyle.has(key)) byStyle.set(key, []);
      byStyle.get(key).push(item);
    }
    for (const [key, list] of byStyle) {
      const style = STYLES[key];
      const body = new THREE.InstancedMesh(style.body(), new THREE.MeshStandardMaterial({ roughness: 0.7 }), list.length);
      body.name = `field:${key}`;
      let detail = null;
      if (style.detail) {
        detail = new THREE.InstancedMesh(style.detail(), new THREE.MeshStandardMaterial({ color: '#c8ced6', metalness: 0.3 }), list.length);
        this.group.add(detail);
      }
      const entry = { body, detail, ids: list.map((it) => it.id) };
      list.forEach((item, i) => {
        this.index.set(item.id, { style: key, i, item });
        this.#place(entry, i, item);
        body.setColorAt(i, _c.set(colourOfState(item.state)));
      });
      body.instanceColor.needsUpdate = true;
      this.groups.set(key, entry);
      this.group.add(body);
    }
    this.beacons = new THREE.InstancedMesh(new THREE.SphereGeometry(0.35, 10, 8), new THREE.MeshBasicMaterial({ color: '#ff2d55' }), Math.max(1, items.length));
    this.beacons.count = 0;
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
    this.dirty.add(entry);
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
    entry.body.instanceMatrix.needsUpdate = true;
    if (entry.detail) entry.detail.instanceMatrix.needsUpdate = true;
    this.beaconsDirty = true;
  }

  // The entity under a raycast hit, or null.
  idOf(hit) {
    if (!hit || hit.instanceId === undefined) return null;
    const key = hit.object.name.startsWith('field:') ? hit.object.name.slice(6) : null;
    return key ? this.groups.get(key)?.ids[hit.instanceId] ?? null : null;
  }

  pickables() { return [...this.groups.values()].map((e) => e.body); }

  // Per frame: flush colour changes once, switch details by distance, blink alarms.
  update(camera, target, time) {
    for (const entry of this.dirty) entry.body.instanceColor.needsUpdate = true;
    this.dirty.clear();
    if (this.beaconsDirty) this.#refreshBeacons();
    const far = camera.position.distanceTo(target) > LOD_DISTANCE;
    for (const entry of this.groups.values()) if (entry.detail) entry.detail.visible = !far;
    this.beacons.visible = Math.floor(time * 2) % 2 === 0;
  }

  #place(entry, i, item) {
    const [w, d, h] = sizeOf(item);
    const [x, y, z] = item.position ?? [0, 0, 0];
    const heading = THREE.MathUtils.degToRad(item.heading ?? 0);
    _q.setFromAxisAngle(_up, heading);
    _p.set(x, z ?? 0, -y);
    _s.set(w, h * (STYLES[styleKey(item)].bodyHeight ?? 1), d);
    entry.body.setMatrixAt(i, _m.compose(_p, _q, _s));
    if (entry.detail) entry.detail.setMatrixAt(i, _m.compose(_p, _q, _s.set(w, h, d)));
  }

  #refreshBeacons() {
    this.beaconsDirty = false;
    let n = 0;
    for (const id of this.alarms) {
      const item = this.index.get(id)?.item;
      if (!item) continue;
      const [x, y] = item.position ?? [0, 0];
      _q.identity();
      this.beacons.setMatrixAt(n++, _m.compose(_p.set(x, sizeOf(item)[2] + 0.8, -y), _q, _s.set(1, 1, 1)));
    }
    this.beacons.count = n;
    this.beacons.instanceMatrix.needsUpdate = true;
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
    if (this.beacons) { this.beacons.geometry.dispose(); this.beacons.material.dispose(); this.beacons.dispose(); }
    this.groups.clear();
    this.index.clear();
    this.group.clear();
  }
}

export function sizeOf(item) {
  const fallback = DEFAULT_SIZE[item.kind] ?? DEFAULT_SIZE.machine;
  const size = item.size ?? [];
  return [0, 1, 2].map((k) => size[k] ?? fallback[k]);
}
