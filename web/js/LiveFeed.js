// The `/live` WebSocket (docs/live-protocol.md): a snapshot, then ordered deltas. A gap in
// `seq` or a `resync` reconnects for a fresh snapshot; a lost socket reconnects with back-off.
export class LiveFeed {
  constructor({ twin, under = null, token, onSnapshot, onChanges, onStatus = () => {} }) {
    Object.assign(this, { twin, under, token, onSnapshot, onChanges, onStatus });
    this.socket = null;
    this.seq = null;
    this.retry = 500;
    this.closed = false;
    this.messages = 0;
    this.changes = 0;
  }

  connect() {
    const q = new URLSearchParams({ twin: this.twin });
    if (this.under) q.set('under', this.under);
    if (this.token) q.set('token', this.token);
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/live?${q}`);
    this.socket = socket;
    this.seq = null;
    socket.onopen = () => { this.retry = 500; this.onStatus('live'); };
    socket.onmessage = (event) => this.#message(JSON.parse(event.data));
    socket.onclose = (event) => {
      if (this.closed) return;
      this.onStatus(event.code === 4401 ? 'log in again' : event.code === 4404 ? 'no live feed for this twin' : 'reconnecting');
      if (event.code === 4401 || event.code === 4404) return;
      setTimeout(() => { if (!this.closed) this.connect(); }, this.retry);
      this.retry = Math.min(this.retry * 2, 15000);
    };
    return this;
  }

  #message(msg) {
    this.messages += 1;
    if (msg.type === 'resync') return; // a snapshot follows
    if (this.seq !== null && msg.seq !== undefined && msg.seq !== this.seq + 1) {
      this.socket.close(); // a gap: reconnect for a fresh snapshot
      return;
    }
    if (msg.seq !== undefined) this.seq = msg.seq;
    if (msg.type === 'snapshot') this.onSnapshot(msg.entities ?? {});
    else if (msg.type === 'delta') {
      this.changes += msg.changes.length;
      this.onChanges(msg.changes);
    }
  }

  dispose() {
    this.closed = true;
    if (this.socket) this.socket.close();
  }
}
