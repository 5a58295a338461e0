import { escape } from './WorldView.js';

const SHOWN = Object.freeze(['fill_rate', 'lost_units', 'backorder_unit_days', 'inventory_cost', 'transport_co2e_t']);

// The latest what-if study of the twin from the simulation API: baseline vs disrupted.
export class StudyPanel {
  constructor(root, { api, twin }) {
    Object.assign(this, { root, api, twin });
  }

  async load() {
    this.root.innerHTML = '<p class="hint">loading studies…</p>';
    let studies;
    try {
      studies = await this.api.simulations(this.twin);
    } catch (error) {
      this.root.innerHTML = `<p class="hint">No simulation studies available for this twin (${escape(error.message)}).</p>`;
      return;
    }
    const done = (Array.isArray(studies) ? studies : studies.items ?? []).find((s) => s.status === 'done');
    const run = '<button id="study-run">Run a study (200 replications)</button>';
    if (!done) { this.root.innerHTML = `<p class="hint">No finished study yet.</p>${run}`; this.#bind(); return; }
    const full = done.result ? done : await this.api.simulation(done.id);
    this.render(full);
    this.root.insertAdjacentHTML('beforeend', run);
    this.#bind();
  }

  render(study) {
    const scenarios = study.result?.scenarios ?? [];
    const head = scenarios.map((s) => `<th>${escape(s.id ?? s.name ?? '')}</th>`).join('');
    const rows = SHOWN.map((k) => `<tr><th>${k}</th>${scenarios.map((s) => { const v = s.kpis?.[k]; return `<td class="num">${v ? `${fmt(v.mean)} ±${fmt(v.ci95)}` : ''}</td>`; }).join('')}</tr>`).join('');
    this.root.innerHTML = `<h3>What if? <small>${escape(study.id)}</small></h3><table><tr><th></th>${head}</tr>${rows}</table><p><a href="/simulations/${encodeURIComponent(study.id)}/report.html" target="_blank">full report</a></p>`;
  }

  #bind() {
    this.root.querySelector('#study-run')?.addEventListener('click', async () => {
      try {
        const started = await this.api.startSimulation(this.twin, { scenarios: [], replications: 200, seed: 1 });
        this.root.innerHTML = `<p class="hint">study ${escape(started.id)} started…</p>`;
        const poll = async () => {
          const s = await this.api.simulation(started.id);
          if (s.status === 'done') this.render(s);
          else if (s.status === 'failed') this.root.innerHTML = `<p class="error">${escape(s.error?.message ?? 'failed')}</p>`;
          else { this.root.innerHTML = `<p class="hint">${s.status} ${s.progress?.done ?? 0}/${s.progress?.total ?? '?'}</p>`; setTimeout(poll, 1000); }
        };
        poll();
      } catch (error) {
        this.root.innerHTML = `<p class="error">${escape(error.message)}</p>`;
      }
    });
  }
}

const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));
