import * as THREE from 'three';
import { Labels } from './Labels.js';

// The other participants as avatars where their cameras are, each in their colour with
// their name, and a line to the machine they point at. Add its group to the current view.
export class PresenceLayer {
  constructor() {
    this.group = new THREE.Group();
    this.labels = new Labels();
    this.group.add(this.labels.group);
    this.avatars = new Map(); // id -> {head, label, ray, person}
  }

  join(person) {
    if (this.avatars.has(person.id)) return;
    const head = new THREE.Mesh(new THREE.ConeGeometry(0.6, 1.4, 12).rotateX(-Math.PI / 2), new THREE.MeshBasicMaterial({ color: person.colour }));
    head.visible = false;
    const label = this.labels.add(person.name, new THREE.Vector3(), { colour: person.colour, size: 1 });
    label.visible = false;
    const ray = new THREE.Line(new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(), new THREE.Vector3()]), new THREE.LineDashedMaterial({ color: person.colour, dashSize: 0.6, gapSize: 0.3 }));
    ray.visible = false;
    this.group.add(head, ray);
    this.avatars.set(person.id, { head, label, ray, person, pose: null });
  }

  leave(id) {
    const a = this.avatars.get(id);
    if (!a) return;
    this.group.remove(a.head, a.ray);
    this.labels.remove(a.label);
    a.head.geometry.dispose(); a.head.material.dispose();
    a.ray.geometry.dispose(); a.ray.material.dispose();
    this.avatars.delete(id);
  }

  // Place an avatar; `locate(id)` gives the scene position of a pointed-at entity or null.
  pose({ id, camera, pointing, view }, currentView, locate) {
    const a = this.avatars.get(id);
    if (!a || !camera) return;
    a.pose = { camera, pointing, view };
    const here = view === currentView;
    a.head.visible = here;
    a.label.visible = here;
    if (!here) { a.ray.visible = false; return; }
    const eye = new THREE.Vector3(camera[0], camera[1], camera[2]);
    a.head.position.copy(eye);
    a.head.lookAt(camera[3], camera[4], camera[5]);
    a.label.position.copy(eye).add(new THREE.Vector3(0, 1.4, 0));
    const at = pointing ? locate(pointing) : null; // [x, y, z] in the scene, or null
    a.ray.visible = Boolean(at);
    if (at) {
      a.ray.geometry.dispose();
      a.ray.geometry = new THREE.BufferGeometry().setFromPoints([eye, new THREE.Vector3(at[0], at[1], at[2])]);
      a.ray.computeLineDistances();
    }
  }

  pointingAt(id) { return this.avatars.get(id)?.pose?.pointing ?? null; }

  dispose() {
    for (const id of [...this.avatars.keys()]) this.leave(id);
    this.labels.dispose();
  }
}
