// Alarm queue: active and acknowledged alarms, acknowledge and close (cause, action) dialogs.
import { ApiError, api, esc } from "./api.js";
import { fmtTime, t } from "./i18n.js";

const FALLBACK_CAUSES = ["equipment", "process", "operation", "data_quality", "communication",
  "false_alarm", "other"];

async function causes() {
  try {
    const body = await api("/api/v1/alarms/causes");
    const list = Array.isArray(body) ? body : body.items || body.causes;
    if (Array.isArray(list) && list.length) return list.map((c) => (typeof c === "string" ? { id: c, label: c } : { id: c.id || c.code, label: c.label || c.title || c.id || c.code }));
  } catch { /* older server: fall back */ }
  return FALLBACK_CAUSES.map((id) => ({ id, label: id }));
}

export function alarmRow(a, { withEnterprise = true } = {}) {
  const state = a.cleared && a.state !== "closed" ? `${t(a.state)} · ${t("cleared")}` : t(a.state);
  const ent = withEnterprise ? `<td><a href="#/ent/${esc(a.enterprise_id)}">${esc(a.enterprise_name || a.enterprise_id)}</a></td>` : "";
  return `<tr data-alarm="${esc(a.id)}" data-state="${esc(a.state)}">
    <td><span class="sev ${esc(a.severity)}">${esc(t(a.severity))}</span></td>${ent}
    <td>${esc(a.title || a.rule)}<div class="muted mono">${esc(a.subject || "")}</div></td>
    <td>${esc(a.message || "")}</td><td class="muted">${esc(fmtTime(a.raised_at))}</td>
    <td class="alarm-state">${esc(state)}${a.acked_by ? `<div class="muted">${esc(a.acked_by)}</div>` : ""}</td>
    <td>${a.state === "active" ? `<button data-ack="${esc(a.id)}" type="button">${esc(t("ack"))}</button>` : ""}
        ${a.state !== "closed" ? `<button data-close="${esc(a.id)}" type="button" class="danger">${esc(t("close"))}</button>` : ""}</td></tr>`;
}

/** Wire ack/close buttons under `root`; `after` runs when an alarm changed. */
export function wireAlarmActions(root, after) {
  root.addEventListener("click", async (ev) => {
    const ackId = ev.target.dataset && ev.target.dataset.ack;
    const closeId = ev.target.dataset && ev.target.dataset.close;
    if (ackId) {
      ev.target.disabled = true;
      try {
        await api(`/api/v1/alarms/${ackId}/ack`, { method: "POST", body: {} });
        after();
      } catch (err) { window.swToast(`${t("error")}: ${err.message}`); ev.target.disabled = false; }
    } else if (closeId) {
      openCloseDialog(closeId, after);
    }
  });
}

async function openCloseDialog(id, after) {
  const list = await causes();
  const dlg = document.createElement("dialog");
  dlg.id = "close-dialog";
  dlg.innerHTML = `<form method="dialog">
      <h3>${esc(t("close_alarm"))} #${esc(id)}</h3>
      <label>${esc(t("cause"))}<select name="cause_category" required>
        ${list.map((c) => `<option value="${esc(c.id)}">${esc(c.label)}</option>`).join("")}</select></label>
      <label>${esc(t("action_taken"))}<textarea name="action_taken" rows="3" required minlength="2"></textarea></label>
      <p class="error" id="close-error"></p>
      <div><button value="cancel" type="button" data-cancel>${esc(t("cancel"))}</button>
      <button class="primary" type="submit">${esc(t("submit"))}</button></div></form>`;
  document.body.appendChild(dlg);
  dlg.querySelector("[data-cancel]").onclick = () => { dlg.close(); dlg.remove(); };
  dlg.querySelector("form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = new FormData(ev.target);
    try {
      await api(`/api/v1/alarms/${id}/close`, { method: "POST", body: {
        cause_category: form.get("cause_category"), action_taken: form.get("action_taken") } });
      dlg.close();
      dlg.remove();
      after();
    } catch (err) {
      dlg.querySelector("#close-error").textContent = err instanceof ApiError ? err.message : String(err);
    }
  });
  dlg.showModal();
}

export async function render(view, { live }) {
  const filter = { state: "open", severity: "" };
  view.innerHTML = `
    <section class="panel">
      <div class="filters">
        <select name="state"><option value="open">${esc(t("active"))} + ${esc(t("acknowledged"))}</option>
          <option value="active">${esc(t("active"))}</option><option value="acknowledged">${esc(t("acknowledged"))}</option>
          <option value="closed">${esc(t("closed"))}</option></select>
        <select name="severity"><option value="">${esc(t("severity"))}: ${esc(t("all"))}</option>
          ${["red", "orange", "yellow", "blue"].map((s) => `<option value="${s}">${esc(t(s))}</option>`).join("")}</select>
        <span class="muted" id="alarm-total"></span>
      </div>
      <table id="alarm-table"><thead><tr><th data-i18n="severity"></th><th data-i18n="enterprises"></th>
        <th data-i18n="rule"></th><th data-i18n="message"></th><th data-i18n="raised_at"></th>
        <th data-i18n="state"></th><th></th></tr></thead><tbody></tbody></table>
    </section>`;
  const body = view.querySelector("tbody");

  async function load() {
    const states = filter.state === "open" ? ["active", "acknowledged"] : [filter.state];
    const pages = await Promise.all(states.map((state) => api("/api/v1/alarms", {
      query: { state, severity: filter.severity, limit: 200 } })));
    const items = pages.flatMap((p) => p.items || []);
    const rank = { red: 4, orange: 3, yellow: 2, blue: 1 };
    items.sort((a, b) => (a.state === "active" ? 0 : 1) - (b.state === "active" ? 0 : 1)
      || rank[b.severity] - rank[a.severity] || String(b.raised_at).localeCompare(String(a.raised_at)));
    body.innerHTML = items.length ? items.map((a) => alarmRow(a)).join("") : `<tr><td colspan="7" class="muted">${esc(t("no_alarms"))}</td></tr>`;
    view.querySelector("#alarm-total").textContent = `${t("total")} ${pages.reduce((n, p) => n + (p.total ?? 0), 0)}`;
  }

  view.querySelector(".filters").addEventListener("change", (ev) => {
    filter[ev.target.name] = ev.target.value;
    load();
  });
  wireAlarmActions(view, load);
  await load();
  let timer = null;
  const off = live.on((msg) => {
    if (msg.kind !== "alarm" && msg.type !== "reset") return;
    clearTimeout(timer);
    timer = setTimeout(load, 150);
  });
  return () => { off(); clearTimeout(timer); };
}
