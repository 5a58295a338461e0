import { escape } from './WorldView.js';
import { STATE_COLOURS } from './StateColours.js';

const KPI_ROWS = Object.freeze([
  { key: 'throughput_per_h', label: 'throughput', unit: '/h', better: 1 },
  { key: 'wip_mean', label: 'WIP', unit: 'pcs', better: -1 },
  { key: 'lead_time_mean', label: 'lead time', unit: 'min', scale: 1 / 60, better: -1 },
  { key: 'energy_kwh', label: 'energy', unit: 'kWh', better: -1 },
]);

// Machine states counted live, and the line's KPIs before and after the last design edit.
export class KpiPanel {
  constructor(root) {
    this.root = root;
    this.root.innerHTML = '<h3>Machines</h3><div id="state-counts"></div><h3>Design study</h3><div id="design-kpis"><p class="hint">Move a machine or change a buffer: the line is simulated again and everyone sees the KPIs before and after.</p></div>';
    this.last = null;
  }

  counts(items) {
    const by = {};
    for (const it of items) if (it.kind === 'machine') by[it.state ?? 'unknown'] = (by[it.state ?? 'unknown'] ?? 0) + 1;
    this.root.querySelector('#state-counts').innerHTML = Object.entries(by).sort().map(([s, n]) => `<span class="swatch" style="background:${STATE_COLOURS[s] ?? STATE_COLOURS.unknown}"></span>${escape(s)} ${n}`).join(' &nbsp; ');
  }

  simulating(msg) {
    this.root.querySelector('#design-kpis').insertAdjacentHTML('afterbegin', `<p class="hint" id="sim-running">simulating the line after ${escape(msg.by)}'s change…</p>`);
  }

  design(msg) {
    this.last = msg;
    const rows = KPI_ROWS.map(({ key, label, unit, scale = 1, better }) => {
      const b = msg.before[key].mean * scale; const a = msg.after[key].mean * scale;
      const delta = a - b;
      const cls = Math.abs(delta) < 1e-9 ? '' : (delta * better > 0 ? 'better' : 'worse');
      return `<tr><th>${label}</th><td class="num">${b.toFixed(1)}</td><td class="num">${a.toFixed(1)}</td><td class="num ${cls}">${delta >= 0 ? '+' : ''}${delta.toFixed(1)}</td><td>${unit}</td></tr>`;
    }).join('');
    this.root.querySelector('#design-kpis').innerHTML = `<p>after <b>${escape(msg.by)}</b>'s change at ${escape(msg.at)}</p><table data-line="${escape(msg.line)}"><tr><th></th><th>before</th><th>after</th><th>Δ</th><th></th></tr>${rows}</table><p class="hint">means of ${'6'} seeded replications; the same layout gives the same figures</p>`;
  }
}
