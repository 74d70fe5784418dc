// Extension requests of a rectification order (整改延期): the enterprise asks for a later deadline
// with a reason; a supervisor approves it — with the deadline asked or a shorter one — or refuses it
// with a reason. Inspectors are not offered the decision; the API refuses it.
import { api, esc, session } from "./api.js";
import { fmtTime } from "./i18n.js";

const STATES = { pending: "待审批", approved: "已批准", rejected: "不予批准" };

function showError(box, err) {
  const details = err.details && typeof err.details === "object" && !Array.isArray(err.details) ? Object.entries(err.details) : [];
  box.innerHTML = `<li>${esc(err.message)}</li>${details.filter(([, v]) => typeof v === "string" && v !== err.message)
    .map(([k, v]) => `<li data-field="${esc(k)}">${esc(v)}</li>`).join("")}`;
}

async function renderRequest(view, id) {
  const order = await api(`/api/v1/rectifications/${id}`);
  const own = session.get().role === "enterprise";
  view.innerHTML = `<section class="panel"><h2>整改延期 · <a href="#/rect/${order.id}">${esc(order.doc_no)}</a></h2>
      <p>当前整改期限：<b id="current-deadline">${esc(order.deadline)}</b></p>
      <table id="ext-history"><tbody>${order.extensions.map((x) => `<tr><td>申请至 ${esc(x.requested_deadline)}</td><td>${esc(x.reason)}</td>
        <td class="ext-state">${esc(STATES[x.state] || x.state)}${x.granted_deadline ? `（批准至 ${esc(x.granted_deadline)}）` : ""}</td>
        <td>${esc(x.decision_reason || "")}</td></tr>`).join("") || `<tr><td class="muted">无延期申请</td></tr>`}</tbody></table>
      ${own && order.state !== "closed" ? `<form id="ext-request"><label>申请的整改期限<input type="date" name="requested_deadline"></label>
        <label>延期理由<textarea name="reason" rows="2" cols="50"></textarea></label>
        <button type="submit" class="primary">提交延期申请</button><ul class="error" id="ext-errors"></ul></form>` : ""}</section>`;
  const form = view.querySelector("#ext-request");
  if (form) form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api(`/api/v1/rectifications/${id}/extensions`, { method: "POST",
        body: { requested_deadline: form.requested_deadline.value || null, reason: form.reason.value } });
      await renderRequest(view, id);
    } catch (err) { showError(view.querySelector("#ext-errors"), err); }
  });
}

async function renderQueue(view) {
  const rows = await api("/api/v1/rectification-extensions");
  view.innerHTML = `<section class="panel"><h2>整改延期审批</h2>
    <p class="muted">批准时可以给予企业申请的期限或更短的期限；不予批准须写明理由。</p>
    <table id="ext-queue"><thead><tr><th>整改指令</th><th>企业</th><th>当前期限</th><th>申请期限</th><th>理由</th><th>申请时间</th><th>审批</th></tr></thead>
    <tbody>${rows.map((x) => `<tr data-extension="${x.id}"><td><a href="#/rect/${x.order_id}">${esc(x.doc_no)}</a></td>
      <td>${esc(x.enterprise_name)}</td><td>${esc(x.current_deadline)}</td><td>${esc(x.requested_deadline)}</td><td>${esc(x.reason)}</td>
      <td>${esc(fmtTime(x.requested_at))}</td><td class="ext-decision">${x.state === "pending" ? `
        <label>批准至<input type="date" data-deadline="${x.id}" value="${esc(x.requested_deadline)}" max="${esc(x.requested_deadline)}"></label>
        <input size="20" data-reason="${x.id}" placeholder="审批理由（必填）">
        <button type="button" class="primary" data-approve="${x.id}">批准延期</button>
        <button type="button" data-reject="${x.id}">不予批准</button><ul class="error" data-errors="${x.id}"></ul>`
        : `${esc(STATES[x.state] || x.state)}${x.granted_deadline ? `（批准至 ${esc(x.granted_deadline)}）` : ""} · ${esc(x.decision_reason || "")} · ${esc(x.decided_by || "")}`}</td></tr>`).join("")
      || `<tr><td class="muted">无延期申请</td></tr>`}</tbody></table></section>`;
  view.onclick = async (ev) => {
    const id = ev.target.dataset.approve || ev.target.dataset.reject;
    if (!id) return;
    const approve = Boolean(ev.target.dataset.approve);
    const body = { approve, reason: view.querySelector(`input[data-reason="${id}"]`).value };
    if (approve) body.deadline = view.querySelector(`input[data-deadline="${id}"]`).value || null;
    try {
      await api(`/api/v1/rectification-extensions/${id}/decide`, { method: "POST", body });
      await renderQueue(view);
    } catch (err) { showError(view.querySelector(`ul[data-errors="${id}"]`), err); }
  };
}

export async function render(view, ctx) {
  if (ctx.page === "extension-request") return renderRequest(view, ctx.params[0]);
  return renderQueue(view);
}
