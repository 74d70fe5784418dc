// Administration: user accounts (create, role, deactivate) and the audit log.
import { api, esc } from "./api.js";
import { fmtTime, t, term } from "./i18n.js";

const ROLES = ["admin", "supervisor", "duty", "inspector", "enterprise"];

async function renderUsers(view) {
  view.innerHTML = `<section class="panel"><h3 data-i18n="new_user"></h3>
      <form id="user-form" class="filters">
        <input name="username" required pattern="[A-Za-z0-9_.@-]{2,64}" data-i18n-ph="username">
        <input name="display_name" data-i18n-ph="display_name">
        <input name="password" type="password" required minlength="10" data-i18n-ph="password">
        <select name="role">${ROLES.map((r) => `<option value="${r}">${esc(term("role", r))}</option>`).join("")}</select>
        <input name="enterprise_id" maxlength="18" data-i18n-ph="credit_code">
        <button class="primary" type="submit" data-i18n="submit"></button><span class="error" id="user-error"></span>
      </form></section>
    <section class="panel"><table id="users"><thead><tr><th>编号</th><th data-i18n="username"></th>
      <th data-i18n="display_name"></th><th data-i18n="role"></th><th data-i18n="credit_code"></th>
      <th data-i18n="status"></th><th></th></tr></thead><tbody></tbody></table></section>`;
  async function load() {
    const page = await api("/api/v1/users", { query: { limit: 500 } });
    view.querySelector("#users tbody").innerHTML = page.items.map((u) => `<tr data-user="${u.id}">
      <td>${u.id}</td><td>${esc(u.username)}</td><td>${esc(u.display_name)}</td>
      <td><select data-role="${u.id}">${ROLES.map((r) => `<option value="${r}"${r === u.role ? " selected" : ""}>${esc(term("role", r))}</option>`).join("")}</select></td>
      <td class="mono">${esc(u.enterprise_id || "")}</td><td>${u.active ? "✓" : "✗"}</td>
      <td>${u.active ? `<button type="button" data-deactivate="${u.id}">${esc(t("deactivate"))}</button>` : ""}</td></tr>`).join("");
  }
  view.querySelector("#user-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = Object.fromEntries(new FormData(ev.target));
    if (!data.enterprise_id) delete data.enterprise_id;
    try {
      await api("/api/v1/users", { method: "POST", body: data });
      ev.target.reset();
      view.querySelector("#user-error").textContent = "";
      load();
    } catch (err) { view.querySelector("#user-error").textContent = err.message; }
  });
  view.querySelector("#users").addEventListener("change", async (ev) => {
    const id = ev.target.dataset.role;
    if (!id) return;
    try { await api(`/api/v1/users/${id}`, { method: "PATCH", body: { role: ev.target.value } }); }
    catch (err) { window.swToast(err.message); }
    load();
  });
  view.querySelector("#users").addEventListener("click", async (ev) => {
    const id = ev.target.dataset.deactivate;
    if (!id) return;
    try { await api(`/api/v1/users/${id}`, { method: "DELETE" }); } catch (err) { window.swToast(err.message); }
    load();
  });
  await load();
}

async function renderAudit(view) {
  const q = { offset: 0, limit: 50, action: "", target: "", username: "" };
  view.innerHTML = `<section class="panel"><form class="filters" id="audit-filter">
      <input name="action" data-i18n-ph="action"><input name="target" data-i18n-ph="target">
      <input name="username" data-i18n-ph="who"><button type="submit" data-i18n="search"></button></form>
      <table id="audit"><thead><tr><th data-i18n="when"></th><th data-i18n="who"></th><th data-i18n="action"></th>
      <th data-i18n="target"></th><th>before → after</th><th data-i18n="where"></th></tr></thead><tbody></tbody></table>
      <div class="pager"><button type="button" data-page="-1" data-i18n="page_prev"></button>
      <span id="audit-pos"></span><button type="button" data-page="1" data-i18n="page_next"></button></div></section>`;
  async function load() {
    const page = await api("/api/v1/audit", { query: q });
    view.querySelector("#audit tbody").innerHTML = page.items.map((e) => `<tr><td>${esc(fmtTime(e.ts))}</td>
      <td>${esc(e.username)} <span class="muted">${esc(term("role", e.role))}</span></td><td class="mono">${esc(e.action)}</td><td class="mono">${esc(e.target)}</td>
      <td class="mono">${esc(JSON.stringify(e.before ?? null))} → ${esc(JSON.stringify(e.after ?? null))}</td><td>${esc(e.client_ip || "")}</td></tr>`).join("");
    view.querySelector("#audit-pos").textContent = `${q.offset + 1}–${Math.min(q.offset + q.limit, page.total)} / ${page.total}`;
  }
  view.querySelector("#audit-filter").addEventListener("submit", (ev) => {
    ev.preventDefault();
    Object.assign(q, Object.fromEntries(new FormData(ev.target)), { offset: 0 });
    load();
  });
  view.querySelector(".pager").addEventListener("click", (ev) => {
    const step = Number(ev.target.dataset.page || 0);
    if (!step) return;
    q.offset = Math.max(0, q.offset + step * q.limit);
    load();
  });
  await load();
}

export async function render(view, { page }) {
  if (page === "audit") await renderAudit(view);
  else await renderUsers(view);
}
