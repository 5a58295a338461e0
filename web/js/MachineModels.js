import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { sizeOf } from './MachineField.js';

const _box = new THREE.Box3();
const _size = new THREE.Vector3();
const _centre = new THREE.Vector3();
// A model's underside would fight the plinth's top face for the same pixels.
const LIFT = 0.01;

// Machines the scenario gives a glTF model for (`model:`), drawn with that model. Each file
// is loaded once; each machine gets a copy (sharing its geometry and materials), scaled as a
// whole to fit the machine's footprint, centred on its position, turned to its heading and
// standing on `base` metres: the plinth the machine field keeps drawing in the live colour.
//
// Lifecycle: load(items) resolves when every model has loaded or failed; `placed` maps a
// machine to its model, `failed` to the reason (its parametric mesh stays). A model loading
// after dispose() is dropped. Models from the twin's own server are fetched with the
// participant's token; a URL elsewhere is fetched without it.
export class MachineModels {
  constructor({ token = null, base = 0, onPlaced = () => {} } = {}) {
    this.token = token;
    this.base = base;
    this.onPlaced = onPlaced;
    this.group = new THREE.Group();
    this.group.name = 'models';
    this.placed = new Map(); // entity id -> Object3D
    this.failed = new Map(); // entity id -> reason
    this.sources = new Map(); // url -> Promise<{scene, size, centre, bottom}>
    this.meshes = [];
    this.disposed = false;
  }

  async load(items) {
    await Promise.all(items.filter((item) => item.model).map(async (item) => {
      try {
        const source = await this.#source(item.model);
        if (this.disposed) return;
        const copy = source.scene.clone(true);
        copy.position.set(-source.centre.x, -source.bottom, -source.centre.z);
        const holder = new THREE.Group();
        holder.add(copy);
        holder.userData = { entity: item.id, source };
        copy.traverse((o) => { if (o.isMesh) { o.userData.entity = item.id; this.meshes.push(o); } });
        this.placed.set(item.id, holder);
        this.group.add(holder);
        this.place(item);
        this.onPlaced(item.id);
      } catch (error) {
        this.failed.set(item.id, String(error?.message ?? error));
        console.warn(`model of ${item.id} (${item.model}) not shown: ${error?.message ?? error}`);
      }
    }));
  }

  // Fit the machine's model to its footprint and put it where the machine stands.
  place(item) {
    const holder = this.placed.get(item.id);
    if (!holder) return;
    const { size } = holder.userData.source;
    const [w, d, h] = sizeOf(item);
    const fits = [w / size.x, d / size.z, (h - this.base) / size.y].filter((k) => Number.isFinite(k) && k > 0);
    holder.scale.setScalar(fits.length ? Math.min(...fits) : 1);
    const [x, y, z] = item.position ?? [0, 0, 0];
    holder.position.set(x, (z ?? 0) + this.base + LIFT, -y);
    holder.rotation.y = THREE.MathUtils.degToRad(item.heading ?? 0);
  }

  // The machine a raycast hit on a model stands for, or null.
  idOf(hit) { return hit?.object?.userData?.entity ?? null; }

  pickables() { return this.meshes; }

  #source(url) {
    if (!this.sources.has(url)) {
      const loader = new GLTFLoader();
      if (this.token && url.startsWith('/')) loader.setRequestHeader({ Authorization: `Bearer ${this.token}` });
      this.sources.set(url, loader.loadAsync(url).then((gltf) => {
        _box.setFromObject(gltf.scene);
        if (_box.isEmpty()) throw new Error('the model has no geometry');
        return { scene: gltf.scene, size: _box.getSize(_size).clone(), centre: _box.getCenter(_centre).clone(), bottom: _box.min.y };
      }));
    }
    return this.sources.get(url);
  }

  dispose() {
    this.disposed = true;
    this.group.removeFromParent();
    this.group.clear();
    for (const pending of this.sources.values()) {
      pending.then(({ scene }) => scene.traverse((o) => {
        o.geometry?.dispose();
        for (const material of [o.material ?? []].flat()) {
          for (const value of Object.values(material)) if (value?.isTexture) value.dispose();
          material.dispose();
        }
      }), () => {});
    }
    this.sources.clear();
    this.placed.clear();
    this.meshes = [];
  }
}
