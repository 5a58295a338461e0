import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { VRButton } from 'three/addons/webxr/VRButton.js';
import { ARButton } from 'three/addons/webxr/ARButton.js';

// Renderers that rasterise on the CPU: the page then draws without multisampling, at one
// pixel per CSS pixel and with cheaper materials, or a big factory would not stay interactive.
const SOFTWARE_RENDERERS = /swiftshader|llvmpipe|softpipe|software|basic render/i;
// Dynamic resolution on a software rasteriser, where a frame costs about its shaded pixels:
// frames slower than the budget shrink the drawing buffer (the browser scales it up), fast
// ones grow it back, and a scene that has been still for SETTLE_MS is drawn sharp again.
const FRAME_BUDGET_MS = 40;
const MIN_RATIO = 0.5;
const RESIZE_EVERY_MS = 400;
const SETTLE_MS = 400;

// The renderer, camera, controls and frame loop that every view draws into; rendering
// happens in the participant's browser. A view is shown with show(view) and gets update().
//
// Frames are drawn on demand: when the camera moves, when the view's update() reports a
// change, or after invalidate() (a view or layer that changed the scene in between calls
// it). An unchanged scene costs nothing per animation frame, which leaves the main thread
// to live updates and input. In WebXR every frame is drawn (the head always moves).
//
// The cost of a drawn frame is taken as the time to the next animation frame: the browser
// does not start one before the last frame has been handed over, so a slow rasteriser
// shows there, whatever the CPU time of render() itself.
export class SceneHost {
  constructor(container, xrSlot) {
    this.container = container;
    this.xrSlot = xrSlot;
    this.view = null;
    this.ticks = 0; // animation frames
    this.frames = 0; // frames drawn
    this.renderMs = new Float32Array(64); // CPU time of the last 64 render() calls, ring buffer
    this.firstFrameAt = null;
    this.lastDrawAt = 0;
    this.software = false;
    this.rendererName = '';
    this.dirty = true;
    this.ratio = 1; // drawing-buffer pixels per CSS pixel
    this.maxRatio = 1;
    this.frameMs = null; // smoothed cost of a drawn frame
    this.drawnAt = null;
    this.resizedAt = 0;
    this.timer = new THREE.Timer();
    this.raycaster = new THREE.Raycaster();
    this.listeners = [];
  }

  connect() {
    this.rendererName = probeRenderer();
    this.software = SOFTWARE_RENDERERS.test(this.rendererName);
    this.renderer = new THREE.WebGLRenderer({ antialias: !this.software, powerPreference: 'high-performance' });
    this.maxRatio = this.software ? 1 : Math.min(window.devicePixelRatio, 2);
    this.ratio = this.maxRatio;
    this.renderer.setPixelRatio(this.ratio);
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
    this.invalidate();
  }

  // Draw the next animation frame: something in the scene changed outside update().
  invalidate() { this.dirty = true; }

  // Median CPU time of the recent render() calls, in ms (the rasteriser may add to it).
  medianRenderMs() {
    const n = Math.min(this.frames, this.renderMs.length);
    if (!n) return null;
    const sorted = this.renderMs.slice(0, n).sort();
    return sorted[n >> 1];
  }

  // The first thing under the pointer among `objects`, or null.
  pick(event, objects) {
    this.raycaster.setFromCamera(this.#ndc(event), this.camera);
    return this.raycaster.intersectObjects(objects, false)[0] ?? null;
  }

  // Where the pointer meets the floor (y = 0), in scene coordinates.
  floorPoint(event) {
    this.raycaster.setFromCamera(this.#ndc(event), this.camera);
    const out = new THREE.Vector3();
    return this.raycaster.ray.intersectPlane(new THREE.Plane(new THREE.Vector3(0, 1, 0), 0), out);
  }

  #ndc(event) {
    const rect = this.renderer.domElement.getBoundingClientRect();
    return new THREE.Vector2(((event.clientX - rect.left) / rect.width) * 2 - 1, -((event.clientY - rect.top) / rect.height) * 2 + 1);
  }

  #frame() {
    this.ticks += 1;
    const now = performance.now();
    if (this.drawnAt !== null) this.#adapt(now - this.drawnAt, now);
    this.drawnAt = null;
    this.timer.update();
    const t = this.timer.getElapsed();
    const moved = this.controls.update(this.timer.getDelta());
    if (!this.view) return;
    const changed = this.view.update(this.camera, this.controls.target, t, moved);
    if (!(moved || changed || this.dirty || this.renderer.xr.isPresenting)) {
      if (this.ratio < this.maxRatio && now - this.lastDrawAt > SETTLE_MS) this.#setRatio(this.maxRatio, now);
      return;
    }
    this.dirty = false;
    const started = performance.now();
    this.renderer.render(this.view.scene, this.camera);
    this.drawnAt = this.lastDrawAt = performance.now();
    this.renderMs[this.frames % this.renderMs.length] = this.drawnAt - started;
    this.frames += 1;
    if (this.view.ready && this.firstFrameAt === null) this.firstFrameAt = performance.now();
  }

  #adapt(ms, now) {
    if (!this.software || this.renderer.xr.isPresenting) return;
    this.frameMs = this.frameMs === null ? ms : 0.6 * this.frameMs + 0.4 * ms;
    if (now - this.resizedAt < RESIZE_EVERY_MS) return;
    if (this.frameMs > FRAME_BUDGET_MS * 1.25) this.#setRatio(Math.max(MIN_RATIO, this.ratio * 0.8), now);
    else if (this.frameMs < FRAME_BUDGET_MS * 0.6 && this.ratio < this.maxRatio) this.#setRatio(Math.min(this.maxRatio, this.ratio * 1.15), now);
  }

  #setRatio(ratio, now) {
    if (Math.abs(ratio - this.ratio) < 0.01) return;
    this.ratio = ratio;
    this.resizedAt = now;
    this.frameMs = null;
    this.renderer.setPixelRatio(ratio);
    this.#resize();
  }

  #resize() {
    const { clientWidth: w, clientHeight: h } = this.container;
    this.renderer.setSize(w || 1, h || 1, false);
    this.camera.aspect = (w || 1) / (h || 1);
    this.camera.updateProjectionMatrix();
    this.invalidate();
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

// The unmasked name of the WebGL renderer ('' when the browser hides it), from a throw-away
// context: multisampling is fixed when the real context is made, so it must be known first.
function probeRenderer() {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return '';
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const name = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : String(gl.getParameter(gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return name;
}
