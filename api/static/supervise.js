// Supervisors' pages (主管): inspections made by hand (重点检查、举报核查、复查) with the
// enterprise's remaining yearly cap, a team change with a written reason, and the findings decided
// against the advisor's recommendation. Inspectors are not offered these acts; the API refuses them.
import { api, esc, session } from "./api.js";
import { fmtTime } from "./i18n.js";

const OVERSEERS = ["admin", "supervisor"];
const HAND_MADE = { targeted: "重点检查", complaint: "举报核查", follow_up: "复查" };
const SOURCES = { draw: "双随机抽查", special: "专项检查", other: "其他检查", ...HAND_MADE };
const STATES = { planned: "计划中", done: "已完成", cancelled: "已取消" };
const ROLES = { "": "—", leader: "检查组长", member: "执法人员", expert: "辅助人员（专家）" };
const RECS = { no_penalty: "不予处罚", first_violation: "首违不罚", lenient: "从轻/减轻", case: "立案" };

export const isOverseer = () => OVERSEERS.includes((session.get() || {}).role);

/** Shown instead of a supervisor's form: the act is not offered to this role. */
function notOffered(view, what) {
  view.innerHTML = `<section class="panel"><p class="error" id="not-offered">仅主管或管理员可以${esc(what)}。</p></section>`;
}

/** A table of officers with a role per officer (组长/执法人员/辅助人员); `current` preselects. */
function staffTable(officers, current = {}) {
  return `<table id="staff"><thead><tr><th>执法人员</th><th>执法证号</th><th>部门</th><th>角色</th></tr></thead><tbody>${officers.map((o) => {
    const choices = o.auxiliary ? ["", "expert"] : ["", "leader", "member"];
    return `<tr><td>${esc(o.name)}（${esc(o.officer_id)}）</td><td>${esc(o.certificate_no || "—")}</td><td>${esc(o.department)}</td>
      <td><select data-officer="${esc(o.officer_id)}">${choices.map((r) => `<option value="${r}"${current[o.officer_id] === r ? " selected" : ""}>${esc(ROLES[r])}</option>`).join("")}</select></td></tr>`;
  }).join("")}</tbody></table>`;
}

const chosenStaff = (root) => [...root.querySelectorAll("select[data-officer]")]
  .filter((s) => s.value).map((s) => ({ officer_id: s.dataset.officer, role: s.value }));

/** An API refusal as lines: the message, then each field's text (all zh-CN from the server). */
function showError(box, err) {
  const details = err.details && typeof err.details === "object" && !Array.isArray(err.details) ? Object.entries(err.details) : [];
  box.innerHTML = `<li>${esc(err.message)}</li>${details.filter(([, v]) => typeof v === "string" && v !== err.message)
    .map(([k, v]) => `<li data-field="${esc(k)}">${esc(v)}</li>`).join("")}`;
}

async function officers() {
  return (await api("/api/v1/inspectors", { query: { active: true, limit: 200 } })).items;
}

async function renderNew(view, [code = "", followUpOf = ""]) {
  if (!isOverseer()) { notOffered(view, "安排检查"); return; }
  const [people, ents] = await Promise.all([officers(), api("/api/v1/enterprises", { query: { limit: 200 } })]);
  const today = new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
  view.innerHTML = `<form class="panel" id="new-inspection"><h2>安排检查（重点检查、举报核查、复查）</h2>
      <p class="muted">每一次检查（含双随机抽查）都计入企业的年度检查次数上限（国办发〔2024〕54号；本局上限见抽查配置）。</p>
      <label>企业<input name="credit_code" list="ent-list" size="24" value="${esc(code)}" placeholder="统一社会信用代码"></label>
      <datalist id="ent-list">${ents.items.map((e) => `<option value="${esc(e.credit_code)}">${esc(e.name)}</option>`).join("")}</datalist>
      <div id="cap" class="panel"></div>
      <label>检查类型<select name="source">${Object.entries(HAND_MADE).map(([k, v]) => `<option value="${k}"${(followUpOf ? "follow_up" : "targeted") === k ? " selected" : ""}>${esc(v)}</option>`).join("")}</select></label>
      <label>复查的原检查<select name="follow_up_of"><option value="">—</option></select></label>
      <label>理由（举报核查写明举报内容）<textarea name="reason" rows="2" cols="60"></textarea></label>
      <label>计划开始<input type="date" name="planned_from" value="${today}"></label>
      <label>计划结束<input type="date" name="planned_to" value="${today}"></label>
      <h3>检查组</h3>${staffTable(people)}
      <button class="primary" type="submit" id="create">安排检查</button>
      <ul class="error" id="new-errors"></ul><p id="new-done"></p></form>`;
  const form = view.querySelector("#new-inspection");
  const capBox = view.querySelector("#cap");
  const loadCap = async () => {
    const ent = form.credit_code.value.trim();
    capBox.innerHTML = "";
    form.follow_up_of.innerHTML = `<option value="">—</option>`;
    if (!/^[0-9A-Z]{18}$/.test(ent)) return;
    const year = Number((form.planned_from.value || today).slice(0, 4));
    try {
      const cap = await api(`/api/v1/enterprises/${ent}/inspection-cap`, { query: { year } });
      capBox.innerHTML = `<p id="cap-line" data-remaining="${cap.remaining}">${esc(cap.enterprise_name)} · ${cap.year}年度检查上限 ${cap.cap} 次，已计入 ${cap.counted} 次，
        <b>剩余 <span id="cap-remaining">${cap.remaining}</span> 次</b></p>${cap.remaining > 0 ? ""
        : `<p class="error" id="cap-full">该企业${cap.year}年度检查次数已达上限，不能再安排检查。</p>`}
        <table id="cap-list"><tbody>${cap.inspections.map((i) => `<tr><td><a href="#/inspection/${i.id}">#${i.id}</a></td>
          <td>${esc(SOURCES[i.source] || i.source)}</td><td>${esc(i.planned_from)} ~ ${esc(i.planned_to)}</td><td>${esc(STATES[i.status] || i.status)}</td></tr>`).join("")}</tbody></table>`;
      const origins = cap.inspections.filter((i) => i.status !== "cancelled");
      // An origin from an earlier year (opened from its page) is not in this year's list.
      const extra = followUpOf && !origins.some((i) => String(i.id) === followUpOf)
        ? `<option value="${esc(followUpOf)}" selected>#${esc(followUpOf)}（原检查）</option>` : "";
      form.follow_up_of.innerHTML = `<option value="">—</option>${extra}${origins
        .map((i) => `<option value="${i.id}"${String(i.id) === followUpOf ? " selected" : ""}>#${i.id} ${esc(SOURCES[i.source] || i.source)} ${esc(i.planned_from)}</option>`).join("")}`;
      view.querySelector("#create").disabled = cap.remaining <= 0;
    } catch (err) { showError(view.querySelector("#new-errors"), err); }
  };
  // The directory can be large: the list offers the enterprises matching what is typed.
  const list = view.querySelector("#ent-list");
  form.credit_code.addEventListener("input", async () => {
    const q = form.credit_code.value.trim();
    if (q.length < 2 || /^[0-9A-Z]{18}$/.test(q)) return;
    try {
      const found = await api("/api/v1/enterprises", { query: { q, limit: 50 } });
      if (form.credit_code.value.trim() === q) {
        list.innerHTML = found.items.map((e) => `<option value="${esc(e.credit_code)}">${esc(e.name)}</option>`).join("");
      }
    } catch { /* the list stays as it was */ }
  });
  form.credit_code.addEventListener("change", loadCap);
  form.planned_from.addEventListener("change", loadCap);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const body = { credit_code: data.credit_code.trim(), source: data.source, reason: data.reason,
      planned_from: data.planned_from, planned_to: data.planned_to, staff: chosenStaff(form),
      follow_up_of: data.source === "follow_up" && data.follow_up_of ? Number(data.follow_up_of) : null };
    const errors = view.querySelector("#new-errors");
    errors.innerHTML = "";
    try {
      const made = await api("/api/v1/inspections", { method: "POST", body });
      view.querySelector("#new-done").innerHTML = `已安排：<a id="new-link" href="#/inspection/${made.id}">检查记录 #${made.id}</a>`;
      await loadCap();
    } catch (err) { showError(errors, err); }
  });
  if (code) await loadCap();
}

async function renderTeam(view, [id]) {
  if (!isOverseer()) { notOffered(view, "调整检查组"); return; }
  const [ins, people] = await Promise.all([api(`/api/v1/inspections/${id}`), officers()]);
  const current = Object.fromEntries(ins.team.map((m) => [m.officer_id, m.role]));
  view.innerHTML = `<form class="panel" id="team-change"><h2>调整检查组 · 检查记录 <a href="#/inspection/${ins.id}">#${ins.id}</a> ${esc(ins.enterprise_name)}</h2>
      <p>现检查组：<span id="team-now">${ins.team.map((m) => `${esc(m.name)}（${esc(m.role_label)}）`).join("、")}</span></p>
      ${ins.status === "planned" ? "" : `<p class="error">检查已${esc(STATES[ins.status] || ins.status)}，不能再调整检查组。</p>`}
      ${staffTable(people, current)}
      <label>调整理由（必填，记入审计日志）<textarea name="reason" rows="2" cols="60"></textarea></label>
      <button class="primary" type="submit">保存新的检查组</button>
      <ul class="error" id="team-errors"></ul><p id="team-done"></p></form>`;
  const form = view.querySelector("#team-change");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const errors = view.querySelector("#team-errors");
    errors.innerHTML = "";
    try {
      const team = await api(`/api/v1/inspections/${id}/team`, { method: "PUT",
        body: { staff: chosenStaff(form), reason: form.reason.value } });
      view.querySelector("#team-now").textContent = team.map((m) => `${m.name}（${ROLES[m.role] || m.role}）`).join("、");
      view.querySelector("#team-done").textContent = "检查组已调整，已记入审计日志。";
    } catch (err) { showError(errors, err); }
  });
}

async function renderOverrides(view) {
  if (!isOverseer()) { notOffered(view, "查看未采纳建议的决定"); return; }
  const rows = await api("/api/v1/enforcement/overrides", { query: { limit: 200 } });
  view.innerHTML = `<section class="panel"><h2>未采纳处理建议的决定</h2>
    <p class="muted">执法人员作出与裁量建议不同的决定时必须写明理由；此处供主管复核。</p>
    <table id="override-list"><thead><tr><th>检查发现</th><th>企业</th><th>检查项</th><th>建议</th><th>决定</th><th>理由</th><th>决定人</th><th>记录时间</th></tr></thead>
    <tbody>${rows.map((f) => `<tr data-finding="${f.id}"><td><a href="#/finding/${f.id}">#${f.id}</a>（检查 <a href="#/inspection/${f.inspection_id}">#${f.inspection_id}</a>）</td>
      <td>${esc(f.enterprise_id)}</td><td>${esc(f.item_code)}</td><td>${esc(RECS[f.recommendation] || f.recommendation || "")}</td>
      <td><b>${esc(RECS[f.decision] || f.decision || "")}</b></td><td>${esc(f.decision_reason || "")}</td><td>${esc(f.decided_by || "")}</td>
      <td>${esc(fmtTime(f.created_at))}</td></tr>`).join("") || `<tr><td class="muted">无</td></tr>`}</tbody></table></section>`;
}

export async function render(view, ctx) {
  if (ctx.page === "team") return renderTeam(view, ctx.params);
  if (ctx.page === "overrides") return renderOverrides(view);
  return renderNew(view, ctx.params);
}
