// The twinverse HTTP API as the page uses it: bearer token, problem+json errors as messages.
export class ApiClient {
  constructor(base = '') {
    this.base = base;
    this.token = sessionStorage.getItem('twinverse.token');
  }

  async login(principal, password) {
    const body = await this.#request('POST', '/auth/login', { principal, password }, false);
    this.token = body.access_token;
    sessionStorage.setItem('twinverse.token', this.token);
    return body;
  }

  logout() {
    this.token = null;
    sessionStorage.removeItem('twinverse.token');
  }

  twins() { return this.get('/twins'); }
  scene(twin, { under = null, asOf = null } = {}) {
    const q = new URLSearchParams();
    if (under) q.set('under', under);
    if (asOf) q.set('as_of', asOf);
    return this.get(`/scene/${encodeURIComponent(twin)}?${q}`);
  }
  resolve(id) { return this.get(`/resolve/${id}`); }
  events(twin, { entity = null, after = 0, limit = 500 } = {}) {
    const q = new URLSearchParams({ twin, after: String(after), limit: String(limit) });
    if (entity) q.set('entity', entity);
    return this.get(`/events?${q}`);
  }
  simulations(twin) { return this.get(`/twins/${encodeURIComponent(twin)}/simulations`); }
  startSimulation(twin, body) { return this.#request('POST', `/twins/${encodeURIComponent(twin)}/simulations`, body); }
  simulation(id) { return this.get(`/simulations/${encodeURIComponent(id)}`); }

  get(path) { return this.#request('GET', path); }

  async #request(method, path, body = undefined, auth = true) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth && this.token) headers.Authorization = `Bearer ${this.token}`;
    const response = await fetch(this.base + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.detail || `${method} ${path}: HTTP ${response.status}`);
      error.status = response.status;
      error.code = data.code;
      throw error;
    }
    return data;
  }
}
