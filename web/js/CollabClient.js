// The `/collab` WebSocket: presence, chat, annotations and design edits shared with the
// room of one twin (docs/web.md). Messages from the server are dispatched by type.
export class CollabClient extends EventTarget {
  constructor({ twin, token, name }) {
    super();
    Object.assign(this, { twin, token, name });
    this.socket = null;
    this.me = null;
    this.closed = false;
    this.lastPose = 0;
  }

  connect() {
    const q = new URLSearchParams({ twin: this.twin, token: this.token, name: this.name });
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    this.socket = new WebSocket(`${scheme}://${location.host}/collab?${q}`);
    this.socket.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === 'welcome') this.me = msg.you;
      this.dispatchEvent(new CustomEvent(msg.type, { detail: msg }));
    };
    this.socket.onclose = (event) => {
      if (this.closed) return;
      this.dispatchEvent(new CustomEvent('closed', { detail: { code: event.code, reason: event.reason } }));
      if (event.code !== 4401 && event.code !== 4404) setTimeout(() => !this.closed && this.connect(), 1000);
    };
    return this;
  }

  on(type, handler) { this.addEventListener(type, (e) => handler(e.detail)); return this; }

  #send(message) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  // Camera and pointing, at most 10 times a second.
  pose(camera, target, pointing, view) {
    const now = performance.now();
    if (now - this.lastPose < 100) return;
    this.lastPose = now;
    const r = (v) => Math.round(v * 100) / 100;
    this.#send({ type: 'pose', camera: [camera.x, camera.y, camera.z, target.x, target.y, target.z].map(r), pointing, view });
  }

  chat(text) { this.#send({ type: 'chat', text }); }
  annotate(entity, text, position = null) { this.#send({ type: 'annotate', entity, text, ...(position ? { position } : {}) }); }
  edit(entity, property, value, base) { this.#send({ type: 'edit', entity, property, value, base }); }

  dispose() {
    this.closed = true;
    this.socket?.close();
  }
}
