// The timeline slider: from the twin's first event to now; moving it shows the twin as of
// that time (the event log's as-of), "back to live" returns to the live state.
export class Timeline {
  constructor({ input, label, live, onTime, onLive }) {
    Object.assign(this, { input, label, live, onTime, onLive });
    this.start = null;
    this.end = null;
    this.timer = null;
    input.addEventListener('input', () => {
      const at = this.instantAt(Number(input.value));
      label.textContent = at === null ? 'live' : at.toISOString().replace('.000Z', 'Z');
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.#changed(), 150);
    });
    live.addEventListener('click', () => this.backToLive());
  }

  range(startIso) {
    this.start = Date.parse(startIso);
  }

  // ms since the epoch for a slider position, or null at the right end (live).
  instantAt(position) {
    if (this.start === null || position >= Number(this.input.max)) return null;
    const end = Date.now();
    return new Date(this.start + ((end - this.start) * position) / Number(this.input.max));
  }

  // Jump to an instant (used by tests and by links).
  showAt(date) {
    const end = Date.now();
    const position = Math.round(((date.getTime() - this.start) / Math.max(1, end - this.start)) * Number(this.input.max));
    this.input.value = String(Math.max(0, Math.min(Number(this.input.max) - 1, position)));
    this.label.textContent = date.toISOString();
    return this.onTime(date.toISOString()).then(() => { this.live.hidden = false; });
  }

  #changed() {
    const at = this.instantAt(Number(this.input.value));
    if (at === null) { this.backToLive(); return; }
    this.live.hidden = false;
    this.onTime(at.toISOString());
  }

  backToLive() {
    this.input.value = this.input.max;
    this.label.textContent = 'live';
    this.live.hidden = true;
    this.onLive();
  }
}
