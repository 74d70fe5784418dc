// HTTP client (bearer token, one error shape) and the live WebSocket with resume by last id.

import { getLang } from "./i18n.js";
const KEY = "sw.session";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const session = {
  get() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch { return null; }
  },
  set(value) { sessionStorage.setItem(KEY, JSON.stringify(value)); },
  clear() { sessionStorage.removeItem(KEY); },
};

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

async function parse(res, { signOutOn401 = true } = {}) {
  const text = await res.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  if (!res.ok) {
    const err = (body && body.error) || {};
    if (res.status === 401 && signOutOn401) onUnauthorized();
    throw new ApiError(res.status, err.code || "http_error", err.message || res.statusText,
      err.details);
  }
  return body;
}

export async function api(path, { method = "GET", body, query, form, raw } = {}) {
  const s = session.get();
  const headers = { "Accept-Language": getLang() };
  if (s && s.token) headers.Authorization = `Bearer ${s.token}`;
  let url = path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
    const qs = q.toString();
    if (qs) url += (url.includes("?") ? "&" : "?") + qs;
  }
  const init = { method, headers };
  if (form) init.body = form;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  return raw ? res : parse(res);
}

export async function signIn(username, password) {
  const form = new URLSearchParams({ username, password });
  const res = await fetch("/api/v1/auth/token", { method: "POST", body: form,
    headers: { "Accept-Language": getLang() } });
  const body = await parse(res, { signOutOn401: false });
  const me = { token: body.access_token, role: body.role, enterprise_id: body.enterprise_id,
    username, expires_at: Date.now() + body.expires_in * 1000 };
  session.set(me);
  return me;
}

/** Renew the token at half its life so a duty screen stays signed in through a shift. */
export function keepSessionAlive(onRenew) {
  const tick = async () => {
    const s = session.get();
    if (!s) return;
    const left = s.expires_at - Date.now();
    if (left > 0 && left < 15 * 60 * 1000) {
      try {
        const body = await api("/api/v1/auth/refresh", { method: "POST" });
        const next = { ...s, token: body.access_token, expires_at: Date.now() + body.expires_in * 1000 };
        session.set(next);
        onRenew(next.token);
      } catch { /* a 401 signs the user out via onUnauthorized */ }
    }
  };
  return setInterval(tick, 30 * 1000);
}

/** The live feed: reconnects with backoff and resumes after the last id it saw. */
export class Live {
  constructor() {
    this.lastId = null;
    this.handlers = new Set();
    this.stateHandlers = new Set();
    this.ws = null;
    this.attempt = 0;
    this.stopped = false;
    this.connected = false;
  }

  on(fn) { this.handlers.add(fn); return () => this.handlers.delete(fn); }
  onState(fn) { this.stateHandlers.add(fn); fn(this.connected); }

  setState(up) {
    this.connected = up;
    for (const fn of this.stateHandlers) fn(up);
  }

  start(fromId) {
    if (fromId !== undefined && fromId !== null && this.lastId === null) this.lastId = fromId;
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }

  renew(token) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: "auth", token }));
  }

  connect() {
    const s = session.get();
    if (!s || this.stopped) return;
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const after = this.lastId !== null ? `?after=${this.lastId}` : "";
    const ws = new WebSocket(`${proto}://${location.host}/api/v1/live${after}`);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: s.token }));
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.type === "hello") {
        if (this.lastId === null) this.lastId = msg.latest_id;
      } else if (msg.type === "synced") {
        this.attempt = 0;
        this.setState(true);
      } else if (msg.type === "change") {
        if (this.lastId !== null && msg.id <= this.lastId && this.seen(msg.id)) return;
        this.remember(msg.id);
        this.lastId = Math.max(this.lastId || 0, msg.id);
        for (const fn of this.handlers) fn(msg);
      } else if (msg.type === "reset") {
        for (const fn of this.handlers) fn(msg);
      }
    };
    ws.onclose = (ev) => {
      this.setState(false);
      if (this.ws !== ws || this.stopped) return;
      if (ev.code === 4401) { onUnauthorized(); return; }
      const delay = Math.min(10000, 250 * 2 ** this.attempt++);
      setTimeout(() => this.connect(), delay);
    };
  }

  seen(id) { return this.recent && this.recent.has(id); }

  remember(id) {
    if (!this.recent) this.recent = new Set();
    this.recent.add(id);
    if (this.recent.size > 2000) this.recent = new Set([...this.recent].slice(-1000));
  }
}

export const live = new Live();

/** Fetch an authenticated file and hand it to the browser as a download. */
export async function download(path, filename) {
  const res = await api(path, { raw: true });
  if (!res.ok) await parse(res); // throws the API's own error (its zh-CN message)
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
