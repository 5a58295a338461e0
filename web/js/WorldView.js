import * as THREE from 'three';
import { Labels } from './Labels.js';
import { SITE_STATUS_COLOURS, MODE_COLOURS } from './StateColours.js';

const R = 100; // globe radius in scene units
const NODE_STYLE = Object.freeze({
  site: { radius: 2.2, colour: null },
  supplier: { radius: 1.0, colour: '#9aa5b1' },
  warehouse: { radius: 1.2, colour: '#4fa3ff' },
  customer: { radius: 1.0, colour: '#d7a8ff' },
});

export function toGlobe(lat, lon, r = R) {
  const phi = THREE.MathUtils.degToRad(90 - lat);
  const theta = THREE.MathUtils.degToRad(lon + 180);
  return new THREE.Vector3(-r * Math.sin(phi) * Math.cos(theta), r * Math.cos(phi), r * Math.sin(phi) * Math.sin(theta));
}

// The enterprise's sites, suppliers, warehouses and customers on a globe, lanes as arcs
// coloured by mode (brighter = more capacity), sites by status. Clicking a site enters it.
export class WorldView {
  constructor(scenes, { onEnter, onSelect }) {
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color('#0b1016');
    this.scenes = scenes; // [{twin, entities, relations}]
    this.onEnter = onEnter;
    this.onSelect = onSelect;
    this.labels = new Labels();
    this.nodes = []; // meshes with userData.item
    this.siteStats = new Map();
    this.ready = false;
  }

  attach(host) {
    this.host = host;
    const s = this.scene;
    s.add(new THREE.HemisphereLight('#ffffff', '#334', 2.2));
    const sun = new THREE.DirectionalLight('#ffffff', 1.5);
    sun.position.set(200, 150, 100);
    s.add(sun);
    s.add(new THREE.Mesh(new THREE.SphereGeometry(R, 64, 48), new THREE.MeshStandardMaterial({ color: '#15324d', roughness: 0.9 })));
    s.add(this.#graticule());
    for (const data of this.scenes) this.#draw(data);
    s.add(this.labels.group);
    host.camera.position.copy(toGlobe(35, 40, R * 2.8));
    host.controls.target.set(0, 0, 0);
    host.controls.minDistance = R * 1.2;
    host.controls.maxDistance = R * 6;
    this.onClick = (e) => {
      const hit = host.pick(e, this.nodes);
      if (!hit) return;
      const item = hit.object.userData.item;
      if (item.kind === 'site') this.onEnter(hit.object.userData.twin, item.id);
      else this.onSelect(item.id);
    };
    this.onMove = (e) => {
      const hit = host.pick(e, this.nodes);
      const tip = document.getElementById('tooltip');
      if (!hit) { tip.hidden = true; return; }
      const item = hit.object.userData.item;
      const stats = this.siteStats.get(item.id);
      tip.innerHTML = `<b>${escape(item.name)}</b><br>${item.kind}${item.status ? ` · ${item.status}` : ''}` +
        (stats ? `<br>${stats.lines} lines · ${stats.machines} machines · ${stats.down} down` : '') +
        (item.kind === 'site' ? '<br><i>click to enter</i>' : '');
      tip.style.left = `${e.offsetX + 14}px`;
      tip.style.top = `${e.offsetY + 14}px`;
      tip.hidden = false;
    };
    host.renderer.domElement.addEventListener('click', this.onClick);
    host.renderer.domElement.addEventListener('pointermove', this.onMove);
    this.ready = true;
  }

  #draw({ twin, entities, relations }) {
    const byId = new Map(entities.map((e) => [e.id, e]));
    const parent = new Map(relations.filter((r) => r[1] === 'contains').map((r) => [r[2], r[0]]));
    const siteOf = (id) => { let cur = id; while (cur && byId.get(cur)?.kind !== 'site') cur = parent.get(cur); return cur; };
    for (const e of entities) {
      if (e.kind !== 'machine' && e.kind !== 'line') continue;
      const site = siteOf(e.id);
      if (!site) continue;
      const stats = this.siteStats.get(site) ?? { lines: 0, machines: 0, down: 0 };
      if (e.kind === 'line') stats.lines += 1;
      else { stats.machines += 1; if (e.state === 'down') stats.down += 1; }
      this.siteStats.set(site, stats);
    }
    for (const e of entities) {
      const style = NODE_STYLE[e.kind];
      if (!style || !e.location) continue;
      const colour = style.colour ?? SITE_STATUS_COLOURS[e.status ?? 'normal'] ?? SITE_STATUS_COLOURS.normal;
      const mesh = new THREE.Mesh(new THREE.SphereGeometry(style.radius, 16, 12), new THREE.MeshStandardMaterial({ color: colour, emissive: colour, emissiveIntensity: 0.35 }));
      mesh.position.copy(toGlobe(e.location[0], e.location[1], R + 0.5));
      mesh.userData = { item: e, twin };
      mesh.name = e.id;
      this.nodes.push(mesh);
      this.scene.add(mesh);
      if (e.kind === 'site') this.labels.add(e.name, toGlobe(e.location[0], e.location[1], R + 7), { size: 3.2 });
    }
    const ends = new Map();
    for (const [source, kind, target] of relations) {
      if (kind !== 'origin' && kind !== 'destination') continue;
      const lane = ends.get(source) ?? {};
      lane[kind] = byId.get(target);
      ends.set(source, lane);
    }
    const maxCap = Math.max(1, ...entities.filter((e) => e.kind === 'lane').map((e) => e.capacity ?? 0));
    for (const [laneId, { origin, destination }] of ends) {
      if (!origin?.location || !destination?.location) continue;
      const lane = byId.get(laneId);
      const a = toGlobe(origin.location[0], origin.location[1], R + 0.3);
      const b = toGlobe(destination.location[0], destination.location[1], R + 0.3);
      const mid = a.clone().add(b).multiplyScalar(0.5);
      mid.setLength(R + 4 + a.distanceTo(b) * 0.25);
      const points = new THREE.QuadraticBezierCurve3(a, mid, b).getPoints(32);
      const load = lane.load ?? Math.min(1, (lane.capacity ?? 0) / maxCap);
      const material = new THREE.LineBasicMaterial({ color: MODE_COLOURS[lane.mode] ?? '#cccccc', transparent: true, opacity: 0.35 + 0.65 * Math.sqrt(load) });
      const line = new THREE.Line(new THREE.BufferGeometry().setFromPoints(points), material);
      line.userData = { item: lane, twin };
      this.scene.add(line);
    }
  }

  #graticule() {
    const points = [];
    for (let lat = -60; lat <= 60; lat += 30) for (let lon = -180; lon < 180; lon += 4) points.push(toGlobe(lat, lon, R + 0.05), toGlobe(lat, lon + 4, R + 0.05));
    for (let lon = -180; lon < 180; lon += 30) for (let lat = -88; lat < 88; lat += 4) points.push(toGlobe(lat, lon, R + 0.05), toGlobe(lat + 4, lon, R + 0.05));
    return new THREE.LineSegments(new THREE.BufferGeometry().setFromPoints(points), new THREE.LineBasicMaterial({ color: '#2b5576' }));
  }

  // Live values for world nodes (site status, machine states counted per site).
  applyChange(entity, property, value) {
    const node = this.nodes.find((n) => n.userData.item.id === entity);
    if (node && property === 'status') {
      node.userData.item.status = value;
      node.material.color.set(SITE_STATUS_COLOURS[value] ?? SITE_STATUS_COLOURS.normal);
      node.material.emissive.copy(node.material.color);
      this.host?.invalidate();
    }
  }

  update() { return false; }

  dispose() {
    const el = this.host?.renderer.domElement;
    if (el) { el.removeEventListener('click', this.onClick); el.removeEventListener('pointermove', this.onMove); }
    this.labels.dispose();
    this.scene.traverse((o) => { o.geometry?.dispose(); o.material?.dispose?.(); });
    if (this.host) { this.host.controls.minDistance = 0; this.host.controls.maxDistance = Infinity; }
  }
}

export function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
