import { ApiClient } from './ApiClient.js';
import { SceneHost } from './SceneHost.js';
import { WorldView, escape } from './WorldView.js';
import { FactoryView } from './FactoryView.js';
import { LiveFeed } from './LiveFeed.js';
import { CollabClient } from './CollabClient.js';
import { PresenceLayer } from './PresenceLayer.js';
import { InspectorPanel } from './InspectorPanel.js';
import { KpiPanel } from './KpiPanel.js';
import { StudyPanel } from './StudyPanel.js';
import { ChatPanel } from './ChatPanel.js';
import { Timeline } from './Timeline.js';

// The page: logs in, shows the world, enters a site, and wires the live feed, the room
// (presence, chat, notes, design) and the panels to the current view. `window.twinverse`
// is this object, so tests and the browser console can look inside.
export class App {
  constructor(doc) {
    this.doc = doc;
    this.$ = (sel) => doc.querySelector(sel);
    this.api = new ApiClient();
    this.view = null;
    this.twin = null;
    this.site = null;
    this.past = false;
    this.people = new Map();
    this.errors = [];
  }

  async start() {
    this.host = new SceneHost(this.$('#stage'), this.$('#xr')).connect();
    this.presence = new PresenceLayer();
    this.kpis = new KpiPanel(this.$('#kpis'));
    this.chat = new ChatPanel(this.$('#chat-log'), this.$('#chat-form'), this.$('#chat-text'), { onSend: (t) => this.collab?.chat(t) });
    this.timeline = new Timeline({ input: this.$('#time'), label: this.$('#time-label'), live: this.$('#time-live'), onTime: (t) => this.showAsOf(t), onLive: () => this.backToLive() });
    for (const b of this.doc.querySelectorAll('#tabs button')) b.onclick = () => this.tab(b.dataset.tab);
    window.addEventListener('hashchange', () => this.route());
    this.poseTimer = setInterval(() => this.#sendPose(), 100);
    await this.#login();
    await this.route();
  }

  tab(name) {
    for (const b of this.doc.querySelectorAll('#tabs button')) b.classList.toggle('on', b.dataset.tab === name);
    for (const s of this.doc.querySelectorAll('.tab')) s.classList.toggle('on', s.id === name);
  }

  async #login() {
    this.name = sessionStorage.getItem('twinverse.name');
    if (this.api.token && this.name) {
      try { this.twins = await this.api.twins(); return; } catch { this.api.logout(); }
    }
    const dialog = this.$('#login');
    const form = this.$('#login-form');
    form.elements.name.value = this.name ?? '';
    dialog.showModal();
    await new Promise((resolve) => {
      form.onsubmit = async (e) => {
        e.preventDefault();
        try {
          await this.api.login(form.elements.principal.value, form.elements.password.value);
          this.name = form.elements.name.value.trim();
          sessionStorage.setItem('twinverse.name', this.name);
          this.twins = await this.api.twins();
          dialog.close();
          resolve();
        } catch (error) {
          this.$('#login-error').textContent = error.message;
        }
      };
    });
  }

  async route() {
    const m = location.hash.match(/^#site=([^|]+)\|(.+)$/);
    if (m) await this.enterSite(decodeURIComponent(m[1]), decodeURIComponent(m[2]));
    else await this.showWorld();
  }

  async showWorld() {
    this.#leaveSite();
    const scenes = await Promise.all(this.twins.map(async (t) => ({ twin: t.prefix, ...(await this.api.scene(t.prefix)) })));
    this.world = new WorldView(scenes, {
      onEnter: (twin, site) => { location.hash = `#site=${encodeURIComponent(twin)}|${encodeURIComponent(site)}`; },
      onSelect: (id) => this.select(id),
    });
    this.view = 'world';
    this.host.show(this.world);
    this.#crumbs([['World', null]]);
    if (this.twins.length) this.#room(this.twins[0].prefix);
    const sites = scenes.flatMap((s) => s.entities.filter((e) => e.kind === 'site'));
    this.$('#kpis #state-counts').innerHTML = `${sites.length} sites · ${scenes.reduce((n, s) => n + s.entities.filter((e) => e.kind === 'machine').length, 0)} machines · ${scenes.reduce((n, s) => n + s.entities.filter((e) => e.kind === 'lane').length, 0)} lanes`;
    this.study = new StudyPanel(this.$('#study'), { api: this.api, twin: this.twins[0]?.prefix });
    this.study.load();
  }

  async enterSite(twin, site) {
    this.#leaveSite();
    const data = await this.api.scene(twin, { under: site });
    this.twin = twin;
    this.site = site;
    this.view = site;
    this.factory = new FactoryView(data, {
      onSelect: (id) => this.select(id),
      onMoved: (id, xy) => this.edit(id, 'position', xy),
      token: this.api.token,
    });
    this.host.show(this.factory);
    this.factory.scene.add(this.presence.group);
    const siteItem = data.entities.find((e) => e.id === site);
    this.#crumbs([['World', '#world'], [siteItem?.name ?? site, null]]);
    this.kpis.counts(this.factory.items.values());
    this.#room(twin);
    for (const note of this.notes ?? []) this.factory.pin(note);
    this.live = new LiveFeed({
      twin, under: site, token: this.api.token,
      onSnapshot: (entities) => { if (!this.past) for (const [id, values] of Object.entries(entities)) for (const [k, v] of Object.entries(values)) this.factory?.applyChange(id, k, v); this.kpis.counts(this.factory.items.values()); },
      onChanges: (changes) => { if (!this.past) { for (const c of changes) this.factory?.applyChange(c.entity, c.property, c.value); this.kpisDirty = true; } },
      onStatus: (s) => { this.liveStatus = s; },
    }).connect();
    this.kpiTimer = setInterval(() => { if (this.kpisDirty && this.factory) { this.kpisDirty = false; this.kpis.counts(this.factory.items.values()); } }, 1000);
    this.study = new StudyPanel(this.$('#study'), { api: this.api, twin });
    this.study.load();
    try {
      const first = await this.api.events(twin, { limit: 1 });
      if (first.items.length) this.timeline.range(first.items[0].time);
    } catch (error) { this.errors.push(error.message); }
  }

  #leaveSite() {
    this.live?.dispose();
    this.live = null;
    clearInterval(this.kpiTimer);
    this.factory = null;
    this.past = false;
  }

  #room(twin) {
    if (this.collab && this.collab.twin === twin) return;
    this.collab?.dispose();
    this.presence.dispose();
    this.presence = new PresenceLayer();
    this.people.clear();
    const c = new CollabClient({ twin, token: this.api.token, name: this.name }).connect();
    this.collab = c;
    c.on('welcome', (m) => {
      this.people = new Map([[m.you.id, m.you], ...m.participants.map((p) => [p.id, p])]);
      for (const p of m.participants) this.presence.join(p);
      this.#people();
      for (const line of m.chat) this.chat.add(line);
      this.notes = m.annotations;
      for (const n of m.annotations) this.factory?.pin(n);
    });
    c.on('joined', (p) => { this.people.set(p.id, p); this.presence.join(p); this.#people(); this.chat.system(`${p.name} joined`); });
    c.on('left', ({ id }) => { const p = this.people.get(id); this.people.delete(id); this.presence.leave(id); this.host.invalidate(); this.#people(); if (p) this.chat.system(`${p.name} left`); });
    c.on('poses', ({ poses }) => { for (const p of poses) this.presence.pose(p, this.view, (id) => this.#locate(id)); this.host.invalidate(); });
    c.on('chat', (m) => this.chat.add(m));
    c.on('annotation', (n) => { (this.notes ??= []).push(n); this.factory?.pin(n); this.inspector?.addNote(n); });
    c.on('edited', (m) => {
      const it = this.factory?.items.get(m.entity);
      if (it) { it.version = m.version; this.factory.applyChange(m.entity, m.property, m.value); }
      this.chat.system(`${m.by} changed ${m.property} of ${m.entity.split('/').pop()}`);
    });
    c.on('simulating', (m) => this.kpis.simulating(m));
    c.on('kpis', (m) => this.kpis.design(m));
    c.on('conflict', (m) => { this.banner(m.message, 'conflict'); this.#reload(); });
    c.on('error', (m) => this.banner(m.message, 'conflict'));
    if (this.view !== 'world') this.factory?.scene.add(this.presence.group);
  }

  #people() {
    this.$('#people').innerHTML = [...this.people.values()].map((p) => `<li style="background:${escape(p.colour)}" title="${escape(p.principal)}">${escape(p.name)}${p.id === this.collab?.me?.id ? ' (you)' : ''}</li>`).join('');
  }

  #locate(id) {
    const it = this.factory?.items.get(id);
    if (!it?.position) return null;
    return [it.position[0], 2, -it.position[1]];
  }

  #sendPose() {
    if (!this.collab || !this.host) return;
    this.collab.pose(this.host.camera.position, this.host.controls.target, this.factory?.hovered ?? this.inspector?.id ?? null, this.view);
  }

  async select(id) {
    this.tab('inspector');
    this.inspector = new InspectorPanel(this.$('#inspector'), {
      api: this.api, twin: this.twin ?? this.twins[0].prefix,
      onEdit: (entity, property, value) => this.edit(entity, property, value),
      onAnnotate: (entity, text) => this.collab?.annotate(entity, text),
      onMoveMode: () => { if (!this.factory) return false; this.factory.moveMode = !this.factory.moveMode; return this.factory.moveMode; },
    });
    await this.inspector.show(id, this.factory?.items.get(id) ?? {});
  }

  edit(entity, property, value) {
    if (this.past) { this.banner('You are looking at the past: go back to live to edit.', 'conflict'); return; }
    const it = this.factory?.items.get(entity);
    this.collab?.edit(entity, property, value, it?.version ?? '');
  }

  async #reload() {
    if (!this.factory) return;
    this.factory.applyScene(await this.api.scene(this.twin, { under: this.site }));
  }

  async showAsOf(iso) {
    if (!this.factory) return;
    this.past = true;
    this.banner(`Showing the twin as of ${iso}`);
    this.factory.applyScene(await this.api.scene(this.twin, { under: this.site, asOf: iso }));
    this.kpis.counts(this.factory.items.values());
  }

  async backToLive() {
    this.past = false;
    this.$('#banner').hidden = true;
    await this.#reload();
    this.kpis.counts(this.factory?.items.values() ?? []);
  }

  banner(text, cls = '') {
    const b = this.$('#banner');
    b.textContent = text;
    b.className = cls;
    b.hidden = false;
    clearTimeout(this.bannerTimer);
    if (cls) this.bannerTimer = setTimeout(() => { b.hidden = true; }, 8000);
  }

  #crumbs(parts) {
    this.$('#crumbs').innerHTML = parts.map(([name, href]) => (href ? `<button data-href="${href}">${escape(name)}</button>` : `<span>${escape(name)}</span>`)).join(' › ');
    for (const b of this.$('#crumbs').querySelectorAll('button')) b.onclick = () => { location.hash = b.dataset.href; };
  }
}
