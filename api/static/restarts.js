// Restart verification (复产复验): pending requests, the site's self-check, video, decision.
import { api, esc, session } from "./api.js";
import { fmtTime, t, term } from "./i18n.js";

const STATES = ["pending", "approved", "rejected", "superseded"];
const label = (s) => term("state.restart_requests", s);

async function renderList(view, { live }) {
  let state = "pending";
  view.innerHTML = `<section class="panel"><div class="filters"><select id="rr-state">
      ${STATES.map((s) => `<option value="${s}">${esc(label(s))}</option>`).join("")}</select></div>
    <table id="restart-table"><thead><tr><th>#</th><th>${esc(t("enterprises"))}</th><th>申请时间</th><th>计划复产</th>
    <th>自查不合格项</th><th>${esc(t("state"))}</th><th></th></tr></thead><tbody></tbody></table></section>`;
  async function load() {
    const page = await api("/api/v1/restart-requests", { query: { state, limit: 200 } });
    view.querySelector("#restart-table tbody").innerHTML = page.items.map((r) => `<tr data-restart="${r.id}">
      <td>${r.id}</td><td><a href="#/ent/${esc(r.enterprise_id)}">${esc(r.enterprise_name || r.enterprise_id)}</a></td>
      <td>${esc(fmtTime(r.requested_at))}</td><td>${esc(fmtTime(r.planned_at))}</td>
      <td>${r.failed_items ? `<b class="error">${r.failed_items}</b>` : "0"}</td><td>${esc(label(r.state))}</td>
      <td><a href="#/restarts/${r.id}">审核</a></td></tr>`).join("") || `<tr><td colspan="7" class="muted">${esc(t("none"))}</td></tr>`;
  }
  view.querySelector("#rr-state").addEventListener("change", (ev) => { state = ev.target.value; load(); });
  await load();
  return live.on((msg) => { if (msg.kind === "restart_request") load(); });
}

async function renderReview(view, id, { live }) {
  const page = await api("/api/v1/restart-requests", { query: { limit: 500 } });
  const r = page.items.find((x) => String(x.id) === String(id));
  if (!r) { view.innerHTML = `<p class="error">${esc(t("not_found"))}</p>`; return null; }
  const canDecide = r.state === "pending" && session.get().role !== "inspector";
  view.innerHTML = `<section class="panel"><h2>复产复验 #${r.id} · <a href="#/ent/${esc(r.enterprise_id)}">${esc(r.enterprise_name || r.enterprise_id)}</a></h2>
      <dl class="kv"><dt>申请时间</dt><dd>${esc(fmtTime(r.requested_at))}</dd><dt>计划复产</dt><dd>${esc(fmtTime(r.planned_at))}</dd>
      <dt>${esc(t("state"))}</dt><dd id="rr-state">${esc(label(r.state))}</dd>
      ${r.decided_by ? `<dt>审核人</dt><dd>${esc(r.decided_by)} ${esc(fmtTime(r.decided_at))} ${esc(r.decision_reason || "")}</dd>` : ""}</dl></section>
    <div class="grid2"><section class="panel"><h3>企业自查</h3><table id="self-check"><tbody>
      ${(r.self_check || []).map((c) => `<tr><td>${c.ok ? "✓" : `<b class="error">✗</b>`}</td><td>${esc(c.item)}</td><td class="muted">${esc(c.note || "")}</td></tr>`).join("")}
      </tbody></table></section>
    <section class="panel" id="video-panel"><h3>${esc(t("video"))}</h3><div id="video-box"></div><div id="recordings"></div></section></div>
    ${canDecide ? `<form class="panel" id="decision"><h3>审核意见</h3><textarea name="reason" rows="3" cols="60" placeholder="${esc(t("reason"))}（驳回必填）"></textarea>
      <div class="filters"><button class="primary" type="button" data-decide="approve">${esc(t("approve"))}</button>
      <button class="danger" type="button" data-decide="reject">${esc(t("reject"))}</button></div><p class="error" id="decision-error"></p></form>` : ""}`;
  let panel = null;
  try {
    const video = await import("./video.js");
    const opts = { enterprise: r.enterprise_id, purpose: "restart_verification", links: { restart_request_id: String(r.id) },
      restartRequestId: String(r.id), getToken: () => (session.get() || {}).token };
    panel = video.mountVideoPanel(view.querySelector("#video-box"), opts);
    if (video.mountRecordingList) video.mountRecordingList(view.querySelector("#recordings"), opts).catch(() => {});
  } catch { view.querySelector("#video-panel").hidden = true; }
  const form = view.querySelector("#decision");
  if (form) form.addEventListener("click", async (ev) => {
    const decision = ev.target.dataset.decide;
    if (!decision) return;
    try {
      // Ended sessions of this review become the decision's evidence (复产复验).
      let evidence = [];
      try {
        const sessions = await api("/api/v1/video/sessions", { query: { restart_request_id: String(r.id), limit: 10 } });
        evidence = (Array.isArray(sessions) ? sessions : sessions.items || []).filter((x) => x.state === "ended").map((x) => x.id);
      } catch { evidence = []; }
      await api(`/api/v1/restart-requests/${r.id}/${decision}`, { method: "POST", body: { reason: new FormData(form).get("reason") || "", video_session_ids: evidence } });
      location.hash = "#/restarts";
    } catch (err) { view.querySelector("#decision-error").textContent = err.message; }
  });
  const off = live.on((msg) => {
    if (msg.kind === "restart_request" && msg.enterprise_id === r.enterprise_id && String(msg.payload.id) === String(r.id)) {
      view.querySelector("#rr-state").textContent = label(msg.payload.state);
    }
  });
  return () => { off(); if (panel) panel.destroy(); };
}

export async function render(view, ctx) {
  const [id] = ctx.params;
  return id ? renderReview(view, id, ctx) : renderList(view, ctx);
}
