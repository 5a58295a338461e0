import { escape } from './WorldView.js';

// The selected entity: identity, properties, annotations, a history chart of its numeric
// properties (from the event log), and the design controls the twin allows for it.
export class InspectorPanel {
  constructor(root, { api, twin, onEdit, onAnnotate, onMoveMode }) {
    Object.assign(this, { root, api, twin, onEdit, onAnnotate, onMoveMode });
    this.id = null;
  }

  async show(id, item = {}) {
    this.id = id;
    this.root.innerHTML = '<p class="hint">loading…</p>';
    let record, history;
    try {
      [record, history] = await Promise.all([this.api.resolve(id), this.api.events(this.twin, { entity: id, limit: 500 })]);
    } catch (error) {
      this.root.innerHTML = `<p class="error">${escape(error.message)}</p>`;
      return;
    }
    if (this.id !== id) return;
    const e = record.entity;
    const rows = Object.entries(e.properties).filter(([k]) => k !== 'annotations').map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(show(v))}</td></tr>`).join('');
    const notes = (e.properties.annotations ?? []).map((n) => `<li><b>${escape(n.author)}</b> <small>${escape(n.at)}</small><br>${escape(n.text)}</li>`).join('');
    const design = [];
    if (['machine', 'buffer', 'conveyor'].includes(e.kind)) design.push('<button id="move">Move in 3D</button>');
    if (e.kind === 'buffer') design.push(`<label>capacity <input id="cap" type="number" min="0" step="1" value="${item.capacity ?? ''}" style="width:6em"></label> <button id="cap-apply">Apply</button>`);
    this.root.innerHTML = `
      <h3>${escape(e.name)}</h3>
      <table><tr><th>id</th><td><code>${escape(e.id)}</code></td></tr><tr><th>kind</th><td>${escape(e.kind)}</td></tr>
      <tr><th>relations</th><td>${record.outgoing.length} out · ${record.incoming.length} in</td></tr>${rows}</table>
      ${design.length ? `<h4>Design</h4><p>${design.join(' ')}</p>` : ''}
      <h4>History</h4>${chart(history.items)}
      <h4>Notes</h4><ul id="notes">${notes || '<li class="hint">none yet</li>'}</ul>
      <form id="note-form"><textarea id="note-text" rows="2" style="width:100%" placeholder="pin a note here…" maxlength="2000"></textarea><button>Pin note</button></form>`;
    this.root.querySelector('#note-form').onsubmit = (ev) => {
      ev.preventDefault();
      const text = this.root.querySelector('#note-text').value.trim();
      if (text) this.onAnnotate(id, text);
      this.root.querySelector('#note-text').value = '';
    };
    this.root.querySelector('#move')?.addEventListener('click', (ev) => {
      const on = this.onMoveMode();
      ev.target.textContent = on ? 'Moving: drag it (click to stop)' : 'Move in 3D';
    });
    this.root.querySelector('#cap-apply')?.addEventListener('click', () => {
      this.onEdit(id, 'capacity', Number.parseInt(this.root.querySelector('#cap').value, 10));
    });
  }

  addNote(note) {
    if (note.entity !== this.id) return;
    const list = this.root.querySelector('#notes');
    if (!list) return;
    list.querySelector('.hint')?.remove();
    list.insertAdjacentHTML('beforeend', `<li><b>${escape(note.author)}</b> <small>${escape(note.at)}</small><br>${escape(note.text)}</li>`);
  }
}

// Plain display of a value in the API's codec form.
export function show(v) {
  if (v && typeof v === 'object') {
    if ('$q' in v) return `${+v.$q[0].toPrecision(6)} ${v.$q[1]}`.trim();
    if ('$geo' in v) return `${v.$geo[0]}, ${v.$geo[1]}`;
    if (Array.isArray(v)) return v.map(show).join(', ');
    return Object.entries(v).map(([k, x]) => `${k}: ${show(x)}`).join(' · ');
  }
  return String(v);
}

// Numeric property values set over time, one sparkline each.
function chart(events) {
  const series = new Map();
  for (const ev of events) {
    const c = ev.change;
    if (c.kind !== 'property-set') continue;
    let value = c.value;
    if (value && typeof value === 'object' && '$q' in value) value = value.$q[0];
    if (typeof value !== 'number') continue;
    if (!series.has(c.name)) series.set(c.name, []);
    series.get(c.name).push([Date.parse(ev.time), value]);
  }
  const states = events.filter((ev) => ev.change.kind === 'property-set' && ev.change.name === 'state');
  const stateLine = states.length ? `<p><small>state: ${states.slice(-8).map((ev) => `${escape(ev.change.value)} <i>(${ev.time.slice(11, 19)})</i>`).join(' → ')}</small></p>` : '';
  if (!series.size) return stateLine || '<p class="hint">no numeric changes recorded yet</p>';
  return stateLine + [...series].map(([name, pts]) => {
    const xs = pts.map((p) => p[0]); const ys = pts.map((p) => p[1]);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs) || 1, Math.min(...ys), Math.max(...ys)];
    const path = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${((x - x0) / Math.max(1, x1 - x0)) * 300},${55 - ((y - y0) / Math.max(1e-9, y1 - y0)) * 50}`).join(' ');
    return `<div><small>${escape(name)}: ${ys[ys.length - 1]} (${pts.length} changes)</small><svg class="spark" viewBox="0 0 300 60" preserveAspectRatio="none"><path d="${path}" fill="none" stroke="#4fa3ff" stroke-width="2"/></svg></div>`;
  }).join('');
}
