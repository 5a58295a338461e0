import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { VRButton } from 'three/addons/webxr/VRButton.js';
import { ARButton } from 'three/addons/webxr/ARButton.js';

// The renderer, camera, controls and frame loop that every view draws into; rendering
// happens in the participant's browser. A view is shown with show(view) and gets update().
export class SceneHost {
  constructor(container, xrSlot) {
    this.container = container;
    this.xrSlot = xrSlot;
    this.view = null;
    this.frames = 0;
    this.firstFrameAt = null;
    this.timer = new THREE.Timer();
    this.raycaster = new THREE.Raycaster();
    this.listeners = [];
  }

  connect() {
    this.renderer = new THREE.WebGLRenderer({ antialias: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
    this.renderer.xr.enabled = true;
    this.container.appendChild(this.renderer.domElement);
    this.camera = new THREE.PerspectiveCamera(55, 1, 0.1, 5000);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableDamping = true;
    this.#resize();
    const onResize = () => this.#resize();
    window.addEventListener('resize', onResize);
    this.listeners.push(() => window.removeEventListener('resize', onResize));
    this.#xrButtons();
    this.renderer.setAnimationLoop(() => this.#frame());
    return this;
  }

  show(view) {
    if (this.view) this.view.dispose();
    this.view = view;
    view.attach(this);
  }

  // The first thing under the pointer among `objects`, or null.
  pick(event, objects) {
    const rect = this.renderer.domElement.getBoundingClientRect();
    const ndc = new THREE.Vector2(((event.clientX - rect.left) / rect.width) * 2 - 1, -((event.clientY - rect.top) / rect.height) * 2 + 1);
    this.raycaster.setFromCamera(ndc, this.camera);
    return this.raycaster.intersectObjects(objects, false)[0] ?? null;
  }

  // Where the pointer meets the floor (y = 0), in scene coordinates.
  floorPoint(event) {
    const rect = this.renderer.domElement.getBoundingClientRect();
    const ndc = new THREE.Vector2(((event.clientX - rect.left) / rect.width) * 2 - 1, -((event.clientY - rect.top) / rect.height) * 2 + 1);
    this.raycaster.setFromCamera(ndc, this.camera);
    const out = new THREE.Vector3();
    return this.raycaster.ray.intersectPlane(new THREE.Plane(new THREE.Vector3(0, 1, 0), 0), out);
  }

  #frame() {
    this.timer.update();
    const t = this.timer.getElapsed();
    this.controls.update();
    if (this.view) {
      this.view.update(this.camera, this.controls.target, t);
      this.renderer.render(this.view.scene, this.camera);
      if (this.view.ready && this.firstFrameAt === null) this.firstFrameAt = performance.now();
    }
    this.frames += 1;
  }

  #resize() {
    const { clientWidth: w, clientHeight: h } = this.container;
    this.renderer.setSize(w || 1, h || 1, false);
    this.camera.aspect = (w || 1) / (h || 1);
    this.camera.updateProjectionMatrix();
  }

  async #xrButtons() {
    if (!('xr' in navigator)) return;
    for (const [mode, make] of [['immersive-vr', () => VRButton.createButton(this.renderer)], ['immersive-ar', () => ARButton.createButton(this.renderer)]]) {
      const ok = await navigator.xr.isSessionSupported(mode).catch(() => false);
      if (ok) this.xrSlot.appendChild(make());
    }
  }

  dispose() {
    this.renderer.setAnimationLoop(null);
    if (this.view) this.view.dispose();
    this.controls.dispose();
    this.listeners.forEach((off) => off());
    this.renderer.dispose();
    this.renderer.domElement.remove();
  }
}
