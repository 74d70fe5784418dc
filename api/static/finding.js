// One finding (检查发现): the inclusive-prudent advisor's recommendation with every rule it checked
// and its result, the officer's decision (confirm, or override with a written reason that
// supervisors review), and the measures on the finding — flexible instruments and the coercive
// measures whose preconditions the form enforces (安全生产法 第六十五条第一款第（三）项、第七十条).
import { api, esc, session } from "./api.js";
import { fmtTime } from "./i18n.js";
import { bindInstruments, instrumentCell, meetingBody, meetingFields, minutesForms } from "./instruments.js";

const RECS = { no_penalty: "不予处罚", first_violation: "首违不罚", lenient: "从轻/减轻", case: "立案" };
const SEVERITIES = { minor: "轻微", general: "一般", major_hazard: "重大事故隐患" };
const MEASURES = {
  rectify_order: "责令限期改正", education: "批评教育", interview: "行政约谈", warning: "行政告诫",
  suspend_production: "责令暂时停产停业", stop_equipment: "责令停止使用相关设施、设备", stop_power: "通知有关单位停止供电",
};
const STOPS = ["suspend_production", "stop_equipment"];
const COERCIVE = [...STOPS, "stop_power"];

function showError(box, err) {
  const details = err.details && typeof err.details === "object" && !Array.isArray(err.details) ? Object.entries(err.details) : [];
  box.innerHTML = `<li>${esc(err.message)}</li>${details.filter(([, v]) => typeof v === "string" && v !== err.message)
    .map(([k, v]) => `<li data-field="${esc(k)}">${esc(v)}</li>`).join("")}`;
}

/** Why a coercive measure is not offered for this finding now (zh-CN), or "" when it is. */
function unavailable(kind, finding, measures) {
  if (!COERCIVE.includes(kind)) return "";
  if (finding.severity !== "major_hazard") return "仅适用于重大事故隐患";
  if (kind === "stop_power" && !measures.some((m) => STOPS.includes(m.kind) && m.refused_at)) {
    return "须先记录企业拒不执行停产停业或停止使用决定";
  }
  return "";
}

function decisionPanel(f, inspector) {
  const decided = f.decision ? `<p id="decided">已决定：<b>${esc(RECS[f.decision] || f.decision)}</b>（${esc(f.decided_by || "")}）
      ${f.decision !== f.recommendation ? `<br>未采纳建议的理由：${esc(f.decision_reason || "")}` : ""}</p>` : "";
  if (!inspector || f.decision || f.lapsed_at) return decided || `<p class="muted">尚未决定（由检查组执法人员确认或不采纳）。</p>`;
  return `<form id="decision-form"><h3>执法人员决定</h3>
      <button type="button" class="primary" id="confirm-rec" data-rec="${esc(f.recommendation)}">确认建议（${esc(RECS[f.recommendation] || "")}）</button>
      <fieldset><legend>不采纳建议</legend>
        <label>决定<select name="decision">${Object.entries(RECS).filter(([k]) => k !== f.recommendation)
          .map(([k, v]) => `<option value="${k}">${esc(v)}</option>`).join("")}</select></label>
        <label>理由（必填，至少10个字，主管可查看）<textarea name="reason" rows="2" cols="60"></textarea></label>
        <button type="submit" id="override">不采纳建议，按所选决定</button></fieldset>
      <ul class="error" id="decision-errors"></ul></form>`;
}

function measuresPanel(f, measures, inspector) {
  const list = `<table id="measures"><tbody>${measures.map((m) => `<tr data-measure="${m.id}"><td>${esc(m.doc_no || "")}</td>
      <td>${esc(MEASURES[m.kind] || m.kind)}</td><td>${esc(m.content)}${instrumentCell(m)}</td><td>${esc(fmtTime(m.created_at))}</td>
      <td>${m.refused_at ? `企业拒不执行（${esc(m.refusal_note)}）` : STOPS.includes(m.kind) && inspector
        ? `<input size="16" data-refusal-note="${m.id}" placeholder="拒不执行的情况"> <button type="button" data-refuse="${m.id}">记录企业拒不执行</button>` : ""}</td></tr>`).join("")
      || `<tr><td class="muted">无</td></tr>`}</tbody></table>`;
  if (!inspector) return list;
  return `${list}${minutesForms(measures)}<form id="measure-form"><h3>采取措施</h3>
      <label>措施<select name="kind">${Object.entries(MEASURES).map(([k, v]) => {
        const why = unavailable(k, f, measures);
        return `<option value="${k}"${why ? " disabled" : ""}>${esc(v)}${why ? `（${esc(why)}）` : ""}</option>`;
      }).join("")}</select></label>
      <label>内容<textarea name="content" rows="2" cols="60"></textarea></label>
      ${meetingFields()}
      <div id="stop-facts" hidden><label><input type="checkbox" name="safety_not_ensured">
        重大事故隐患排除前或者排除过程中无法保证安全（安全生产法 第六十五条第一款第（三）项）</label></div>
      <div id="power-facts" hidden><label><input type="checkbox" name="imminent_danger"> 有发生生产安全事故的现实危险（第七十条）</label>
        <label>本部门主要负责人批准<input name="head_approval" size="40"></label></div>
      <button type="submit">记录措施</button><ul class="error" id="measure-errors"></ul></form>`;
}

async function renderFinding(view, id) {
  const f = await api(`/api/v1/findings/${id}`);
  const measures = await api(`/api/v1/findings/${id}/measures`);
  const inspector = session.get().role === "inspector";
  view.innerHTML = `<section class="panel" id="finding"><h2>检查发现 #${f.id} · <a href="#/inspection/${f.inspection_id}">检查记录 #${f.inspection_id}</a></h2>
      <p>${esc(f.item_code)} · ${esc(SEVERITIES[f.severity] || f.severity)} · ${esc(f.legal_basis)}</p>
      <p>违法事实：${esc(f.cause)}</p><p>整改措施：${esc(f.measure)} · 期限：${esc(f.deadline || "当场改正")}</p></section>
    <section class="panel"><h3>裁量建议：<b id="recommendation">${esc(RECS[f.recommendation] || "")}</b>${f.provisional ? `（待复查确认，${esc(f.verify_by)}前）` : ""}
      ${f.lapsed_at ? `<span class="error">（及时改正未经确认，原结论已失效）</span>` : ""}</h3>
      <p class="muted">依据：${esc(f.policy_version || "")}</p>
      <table id="checks"><thead><tr><th>审查的规则</th><th>结果</th></tr></thead><tbody>${f.advice.map((c) => `<tr data-rule="${esc(c.rule)}">
        <td>${esc(c.text)}</td><td class="${c.passed ? "" : "error"}">${c.passed ? "✓ 符合" : "✗ 不符合"}</td></tr>`).join("")}</tbody></table>
      ${decisionPanel(f, inspector)}</section>
    <section class="panel"><h3>措施（行政处罚法、安全生产法）</h3>${measuresPanel(f, measures, inspector)}<p class="error" id="finding-error"></p></section>`;
  const again = () => renderFinding(view, id);
  const form = view.querySelector("#decision-form");
  if (form) {
    const decide = async (decision, reason) => {
      try {
        await api(`/api/v1/findings/${id}/decision`, { method: "POST", body: { decision, reason } });
        await again();
      } catch (err) { showError(view.querySelector("#decision-errors"), err); }
    };
    view.querySelector("#confirm-rec").addEventListener("click", (ev) => decide(ev.target.dataset.rec, null));
    form.addEventListener("submit", (ev) => { ev.preventDefault(); decide(form.decision.value, form.reason.value); });
  }
  const mform = view.querySelector("#measure-form");
  if (mform) {
    const facts = () => {
      view.querySelector("#stop-facts").hidden = !STOPS.includes(mform.kind.value);
      view.querySelector("#power-facts").hidden = mform.kind.value !== "stop_power";
    };
    mform.kind.addEventListener("change", facts);
    facts();
    mform.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const kind = mform.kind.value;
      const why = unavailable(kind, f, measures);
      const errors = view.querySelector("#measure-errors");
      if (why) { errors.innerHTML = `<li data-field="kind">${esc(MEASURES[kind])}：${esc(why)}</li>`; return; }
      try {
        await api(`/api/v1/findings/${id}/measures`, { method: "POST", body: { kind, content: mform.content.value,
          safety_not_ensured: STOPS.includes(kind) && mform.safety_not_ensured.checked,
          imminent_danger: kind === "stop_power" && mform.imminent_danger.checked,
          head_approval: kind === "stop_power" ? mform.head_approval.value : "", ...meetingBody(mform) } });
        await again();
      } catch (err) { showError(errors, err); }
    });
  }
  bindInstruments(view, { showError, again });
  view.querySelectorAll("button[data-refuse]").forEach((b) => b.addEventListener("click", async () => {
    const note = view.querySelector(`input[data-refusal-note="${b.dataset.refuse}"]`).value;
    try {
      await api(`/api/v1/measures/${b.dataset.refuse}/refusal`, { method: "POST", body: { note } });
      await again();
    } catch (err) { view.querySelector("#finding-error").textContent = err.message; }
  }));
}

export async function render(view, ctx) {
  return renderFinding(view, ctx.params[0]);
}
