// HTTP and WebSocket helpers shared by the dashboard pages. Plain ES module, no dependencies.

const TOKEN_KEY = "bci.token";

/**
 * The API token: taken from the URL fragment (`#token=...`, as `bci serve` prints the page
 * URL; a fragment is never sent to any server), kept in this tab's sessionStorage, and
 * removed from the address bar. Null when the page was opened without one.
 */
export function getToken() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    const token = decodeURIComponent(m[1]);
    sessionStorage.setItem(TOKEN_KEY, token);
    history.replaceState(null, "", location.pathname + location.search);
    return token;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Ask for the token (once per failure), e.g. when the page was opened without it. */
function askToken() {
  const t = window.prompt("API token of this bci service (printed by `bci serve`):");
  if (t) sessionStorage.setItem(TOKEN_KEY, t.trim());
  return t ? t.trim() : null;
}

/** `href` with the token in its fragment, for links to the other page of the dashboard. */
export function withToken(href) {
  const token = getToken();
  return token ? `${href}#token=${encodeURIComponent(token)}` : href;
}

/**
 * Call the HTTP API with the token. Never throws: returns {ok, status, data, error}.
 * `error` is the server's `detail` text (or a network message) when ok is false.
 */
export async function api(path, { method = "GET", body } = {}, retried = false) {
  const init = { method, headers: {} };
  const token = getToken();
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    return { ok: false, status: 0, data: null, error: `network error: ${err.message}` };
  }
  if (res.status === 401 && !retried && askToken()) return api(path, { method, body }, true);
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (res.ok) return { ok: true, status: res.status, data, error: null };
  let error = `HTTP ${res.status}`;
  if (data && typeof data === "object" && data.detail !== undefined) {
    error = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail);
  }
  if (res.status === 404 || res.status === 405) {
    error = `${error} (not available on this server)`;
  }
  return { ok: false, status: res.status, data, error };
}

/**
 * Which endpoints this server has, from its OpenAPI document, so the page can disable the
 * controls of features that have not landed instead of calling them and failing.
 */
export class Features {
  constructor(paths = {}) {
    this.routes = new Set();
    for (const [path, ops] of Object.entries(paths)) {
      for (const method of Object.keys(ops)) {
        this.routes.add(`${method.toUpperCase()} ${Features.normalize(path)}`);
      }
    }
  }

  static normalize(path) {
    return path.replace(/\{[^}]+\}/g, "{}");
  }

  /** has("POST", "/sessions/{id}/calibration") */
  has(method, path) {
    return this.routes.has(`${method.toUpperCase()} ${Features.normalize(path)}`);
  }

  static async load() {
    const r = await api("/openapi.json");
    return new Features(r.ok && r.data ? r.data.paths : {});
  }
}

/**
 * URL of the session WebSocket, on the same host as the page. The dashboard asks for the
 * `signal` messages (raw traces) with `?signal=1`; feedback apps need not receive them.
 */
export function sessionSocketUrl(sessionId, query = "signal=1") {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const q = query ? `?${query}` : "";
  return `${scheme}://${location.host}/ws/sessions/${encodeURIComponent(sessionId)}${q}`;
}

/**
 * A WebSocket that carries the token as a subprotocol entry (`bearer.<token>`): browsers
 * cannot set an Authorization header on a WebSocket, and a subprotocol stays out of URLs.
 */
export function openSocket(url) {
  const token = getToken() || askToken(); // the socket always needs it
  return token ? new WebSocket(url, ["bci", `bearer.${token}`]) : new WebSocket(url);
}

/**
 * The session WebSocket with automatic reconnection.
 *
 * `on(type, fn)` registers a handler for one message type ("prediction", "signal", ...);
 * `on("*", fn)` sees every message; `onState(fn)` gets "connecting" | "open" | "closed".
 */
export class SessionSocket {
  constructor(sessionId) {
    this.sessionId = sessionId;
    this.handlers = new Map();
    this.stateHandlers = [];
    this.ws = null;
    this.closed = false;
    this.retryMs = 500;
    this.nMessages = 0;
  }

  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(fn);
    return this;
  }

  onState(fn) {
    this.stateHandlers.push(fn);
    return this;
  }

  _state(s) {
    for (const fn of this.stateHandlers) fn(s);
  }

  connect() {
    if (this.closed) return this;
    this._state("connecting");
    const ws = openSocket(sessionSocketUrl(this.sessionId));
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = 500;
      this._state("open");
    };
    ws.onmessage = (ev) => {
      if (this.closed) return; // messages still buffered after close() belong to no one
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.nMessages += 1;
      for (const fn of this.handlers.get(msg.type) || []) fn(msg);
      for (const fn of this.handlers.get("*") || []) fn(msg);
    };
    ws.onclose = (ev) => {
      this._state("closed");
      // 4404: the session does not exist; do not hammer the server.
      if (!this.closed && ev.code !== 4404) {
        setTimeout(() => this.connect(), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 5000);
      }
    };
    return this;
  }

  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(obj));
      return true;
    }
    return false;
  }

  close() {
    this.closed = true;
    if (this.ws) this.ws.close();
  }
}

/**
 * Maps the LSL clock of the stream to the page's clock, so charts scroll smoothly between
 * messages. `observe(t)` with the LSL time of the newest sample on arrival; `now()` is the
 * LSL time to draw at the right edge.
 */
export class LslClock {
  constructor(lagS = 0.12) {
    this.offset = null;
    this.lagS = lagS;
  }

  observe(t) {
    const est = t - performance.now() / 1000;
    if (this.offset === null || Math.abs(est - this.offset) > 1) this.offset = est;
    else this.offset += 0.1 * (est - this.offset);
  }

  get ready() {
    return this.offset !== null;
  }

  now() {
    return this.offset === null ? 0 : performance.now() / 1000 + this.offset - this.lagS;
  }
}

/** Colours per class, stable across the pages (left blue, right orange, others after). */
const CLASS_COLORS = ["#4e9bff", "#ff9f43", "#2ed47a", "#c77dff", "#ff6b81", "#f9e04b"];

export function classColor(label, classes) {
  const name = String(label).toLowerCase();
  if (name.includes("left")) return CLASS_COLORS[0];
  if (name.includes("right")) return CLASS_COLORS[1];
  if (name.includes("feet") || name.includes("foot")) return CLASS_COLORS[2];
  if (name.includes("rest")) return "#9aa5b1";
  const i = classes ? Math.max(0, classes.indexOf(label)) : 0;
  return CLASS_COLORS[(i + 2) % CLASS_COLORS.length];
}

export function fmt(x, digits = 1) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  const s = Number(x).toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s; // no "-0.00"
}

export function median(values) {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
