// Dashboard shell: sign-in, hash routes, layout and language toggles, live indicator.
import { api, esc, keepSessionAlive, live, session, setUnauthorizedHandler, signIn } from "./api.js";
import { getLang, loadMessages, setLang, t, term, translateDom } from "./i18n.js";

const PAGES = {
  board: () => import("./board.js"),
  alarms: () => import("./alarms.js"),
  ent: () => import("./enterprise.js"),
  plans: () => import("./plans.js"),
  draw: () => import("./plans.js"),
  restarts: () => import("./restarts.js"),
  users: () => import("./admin.js"),
  audit: () => import("./admin.js"),
  inspections: () => import("./workbench.js"),
  inspection: () => import("./workbench.js"),
  rect: () => import("./workbench.js"),
  stats: () => import("./stats.js"),
  finding: () => import("./finding.js"),
  "new-inspection": () => import("./supervise.js"),
  team: () => import("./supervise.js"),
  overrides: () => import("./supervise.js"),
  extensions: () => import("./extensions.js"),
  "extension-request": () => import("./extensions.js"),
};

const view = document.getElementById("view");
let cleanup = null;
let renewTimer = null;

function toast(text, ms = 3000) {
  const el = document.getElementById("toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, ms);
}
window.swToast = toast;

function renderLogin(message = "") {
  document.getElementById("nav").hidden = true;
  document.getElementById("logout").hidden = true;
  document.getElementById("who").textContent = "";
  view.innerHTML = `
    <section class="panel login">
      <h2 data-i18n="login"></h2>
      <form id="login-form">
        <label><span data-i18n="username"></span><input name="username" autocomplete="username" required></label>
        <label><span data-i18n="password"></span><input name="password" type="password" autocomplete="current-password" required></label>
        <button class="primary" type="submit" data-i18n="login"></button>
        <p class="error" id="login-error">${esc(message)}</p>
      </form>
    </section>`;
  translateDom(view);
  view.querySelector("#login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = new FormData(ev.target);
    try {
      await signIn(form.get("username"), form.get("password"));
      start();
    } catch (err) {
      const text = err.code === "too_many_requests" ? `${t("too_many_requests")}: ${err.message}` : `${t("sign_in_failed")}: ${err.message}`;
      view.querySelector("#login-error").textContent = text;
    }
  });
}

function signOut(message) {
  session.clear();
  live.stop();
  clearInterval(renewTimer);
  if (cleanup) { cleanup(); cleanup = null; }
  location.hash = "#/login";
  renderLogin(message);
}

setUnauthorizedHandler(() => signOut(t("session_expired")));

let generation = 0;

async function route() {
  const s = session.get();
  if (!s) { renderLogin(); return; }
  const mine = ++generation;
  const [, name = "board", ...rest] = (location.hash || "#/board").slice(1).split("/");
  const page = PAGES[name] ? name : "board";
  document.querySelectorAll("#nav a[data-route]").forEach((a) => a.classList.toggle("on", a.dataset.route === page));
  if (cleanup) { cleanup(); cleanup = null; }
  // Each route renders into a box of its own: a slower earlier route can only write into a
  // detached box, never over the page the user is on now.
  const box = document.createElement("div");
  box.innerHTML = `<p class="muted">${t("loading")}</p>`;
  view.replaceChildren(box);
  try {
    await loadMessages();
    document.getElementById("who").textContent = `${s.username} · ${term("role", s.role)}`;
    const mod = await PAGES[page]();
    const done = (await mod.render(box, { page, params: rest.map(decodeURIComponent), session: s, live })) || null;
    if (mine !== generation) { if (done) done(); return; }
    cleanup = done;
    translateDom(box);
  } catch (err) {
    const known = { forbidden: t("forbidden"), not_found: t("not_found") }[err.code];
    if (mine === generation) box.innerHTML = `<p class="error">${esc(known || t("error"))}: ${esc(err.message)}</p>`;
  }
}

function start() {
  const s = session.get();
  document.getElementById("nav").hidden = false;
  document.getElementById("logout").hidden = false;
  document.getElementById("who").textContent = `${s.username} · ${s.role}`;
  const staff = s.role !== "enterprise";
  document.querySelectorAll("#nav [data-admin]").forEach((el) => { el.hidden = s.role !== "admin"; });
  document.querySelectorAll("#nav [data-staff]").forEach((el) => { el.hidden = !staff; });
  document.querySelectorAll("#nav [data-overseer]").forEach((el) => { el.hidden = !["admin", "supervisor"].includes(s.role); });
  clearInterval(renewTimer);
  renewTimer = keepSessionAlive((token) => live.renew(token));
  live.start();
  if (!location.hash || location.hash === "#/login") {
    location.hash = staff ? "#/board" : `#/ent/${s.enterprise_id}`;
  } else route();
  refreshBadge();
}

async function refreshBadge() {
  try {
    const page = await api("/api/v1/alarms", { query: { state: "active", limit: 1 } });
    const badge = document.getElementById("alarm-badge");
    const n = page.total ?? (page.items || []).length;
    badge.textContent = n;
    badge.hidden = !n;
  } catch { /* alarms not available */ }
}

live.onState((up) => {
  const el = document.getElementById("live");
  el.classList.toggle("on", up);
  el.classList.toggle("off", !up);
  el.querySelector("span").textContent = t(up ? "live_on" : "live_off");
});
live.on((msg) => { if (msg.kind === "alarm") refreshBadge(); });

document.getElementById("lang").addEventListener("click", () => {
  setLang(getLang() === "zh-CN" ? "en" : "zh-CN");
  translateDom();
  route();
});
document.getElementById("layout").addEventListener("click", () => {
  const big = !document.body.classList.contains("big");
  document.body.classList.toggle("big", big);
  localStorage.setItem("sw.big", big ? "1" : "");
  document.getElementById("layout").textContent = t(big ? "laptop" : "big_screen");
});
document.getElementById("logout").addEventListener("click", () => signOut(""));
window.addEventListener("hashchange", route);

setInterval(() => {
  document.getElementById("clock").textContent = new Date().toLocaleTimeString(
    getLang() === "en" ? "en-GB" : "zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
}, 1000);

// The bureau's name from its region file (config/region.yaml) beside the title.
fetch("/public/v1/region").then((r) => (r.ok ? r.json() : null)).then((r) => {
  if (r) document.getElementById("bureau").textContent = r.bureau;
}).catch(() => {});

setLang(getLang());
if (localStorage.getItem("sw.big")) document.body.classList.add("big");
translateDom();
document.getElementById("layout").textContent = t(document.body.classList.contains("big") ? "laptop" : "big_screen");
if (session.get()) start(); else renderLogin();

export { toast };
