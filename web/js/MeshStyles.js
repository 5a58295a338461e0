import * as THREE from 'three';

// Machine kind -> parametric mesh: a body scaled to the footprint and a detail part that
// tells the kind apart up close (hidden far away: the level of detail). Rows, not branches.
const box = () => new THREE.BoxGeometry(1, 1, 1).translate(0, 0.5, 0);
const cyl = (r, h, y) => new THREE.CylinderGeometry(r, r, h, 12).translate(0, y, 0);

export const STYLES = Object.freeze({
  press: { body: box, detail: () => cyl(0.18, 0.5, 1.15), bodyHeight: 1.0 },
  welding: { body: box, detail: () => new THREE.ConeGeometry(0.2, 0.45, 8).translate(0.25, 1.2, 0), bodyHeight: 0.8 },
  'robot-cell': { body: () => new THREE.BoxGeometry(1, 1, 1).translate(0, 0.5, 0), detail: () => armGeometry(), bodyHeight: 0.35 },
  cnc: { body: box, detail: () => new THREE.BoxGeometry(0.5, 0.35, 0.05).translate(0, 0.6, 0.53), bodyHeight: 1.0 },
  oven: { body: box, detail: () => cyl(0.08, 0.6, 1.3), bodyHeight: 1.0 },
  furnace: { body: box, detail: () => cyl(0.12, 0.9, 1.45), bodyHeight: 1.0 },
  paint: { body: box, detail: () => new THREE.BoxGeometry(0.3, 0.2, 0.3).translate(0, 1.1, 0), bodyHeight: 1.0 },
  molding: { body: box, detail: () => cyl(0.15, 0.4, 1.2).rotateZ(Math.PI / 2), bodyHeight: 0.9 },
  'test-bench': { body: box, detail: () => new THREE.BoxGeometry(0.3, 0.3, 0.05).translate(0, 0.85, 0), bodyHeight: 0.7 },
  inspection: { body: box, detail: () => new THREE.SphereGeometry(0.15, 10, 8).translate(0, 1.1, 0), bodyHeight: 0.8 },
  packaging: { body: box, detail: () => new THREE.BoxGeometry(0.4, 0.25, 0.4).translate(0, 0.95, 0), bodyHeight: 0.6 },
  assembly: { body: box, detail: () => new THREE.TorusGeometry(0.2, 0.05, 6, 12).rotateX(Math.PI / 2).translate(0, 1.05, 0), bodyHeight: 0.8 },
  generic: { body: box, detail: () => cyl(0.12, 0.3, 1.1), bodyHeight: 0.9 },
  buffer: { body: () => rackGeometry(), detail: null, bodyHeight: 1.0 },
  conveyor: { body: () => new THREE.BoxGeometry(1, 0.12, 1).translate(0, 0.8, 0), detail: null, bodyHeight: 1.0 },
});

// Default footprint (w, d, h in metres) when the twin gives none.
export const DEFAULT_SIZE = Object.freeze({ machine: [2.4, 2.0, 2.2], buffer: [1.6, 1.0, 1.2], conveyor: [1.0, 1.0, 1.0] });

export function styleKey(item) {
  if (item.kind === 'buffer') return 'buffer';
  if (item.kind === 'conveyor') return 'conveyor';
  return STYLES[item.type] ? item.type : 'generic';
}

function armGeometry() {
  const base = cyl(0.12, 0.35, 0.5);
  const upper = new THREE.BoxGeometry(0.08, 0.5, 0.08).rotateZ(0.6).translate(0.14, 0.85, 0);
  return mergeGeometries([base, upper]);
}

function rackGeometry() {
  const parts = [];
  for (const x of [-0.48, 0.48]) for (const z of [-0.48, 0.48]) parts.push(new THREE.BoxGeometry(0.04, 1, 0.04).translate(x, 0.5, z));
  for (const y of [0.02, 0.5, 0.98]) parts.push(new THREE.BoxGeometry(1, 0.03, 1).translate(0, y, 0));
  return mergeGeometries(parts);
}

// Non-indexed concatenation, enough for these few primitives (no addon needed).
function mergeGeometries(parts) {
  const flat = parts.map((g) => (g.index ? g.toNonIndexed() : g));
  const count = flat.reduce((n, g) => n + g.attributes.position.count, 0);
  const position = new Float32Array(count * 3);
  const normal = new Float32Array(count * 3);
  let offset = 0;
  for (const g of flat) {
    position.set(g.attributes.position.array, offset * 3);
    normal.set(g.attributes.normal.array, offset * 3);
    offset += g.attributes.position.count;
  }
  const out = new THREE.BufferGeometry();
  out.setAttribute('position', new THREE.BufferAttribute(position, 3));
  out.setAttribute('normal', new THREE.BufferAttribute(normal, 3));
  for (const g of [...parts, ...flat]) g.dispose();
  return out;
}

// The material of a generated surface. `cheap` (a software rasteriser) trades physically
// based shading for Lambert's, several times fewer instructions per pixel for a similar look.
export function surfaceMaterial(cheap, { color = '#ffffff', roughness = 1, metalness = 0, vertexColors = false } = {}) {
  return cheap
    ? new THREE.MeshLambertMaterial({ color, vertexColors })
    : new THREE.MeshStandardMaterial({ color, roughness, metalness, vertexColors });
}
