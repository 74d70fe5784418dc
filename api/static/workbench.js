// Inspector's workbench (检查工作台): my inspections, the inspection page with the checklist-based
// findings form (法律依据 filled from the catalogue), evidence, the rectification order, 复查 and
// the enforcement documents; the enterprise's page of its rectification orders (确认、上传证据).
import { api, esc, session } from "./api.js";
import { fmtTime } from "./i18n.js";

const BUCKETS = { overdue: "已逾期", today: "今天", week: "本周", later: "以后", done: "已完成" };
const SOURCES = { draw: "双随机抽查", targeted: "重点检查", complaint: "举报核查", follow_up: "复查", special: "专项检查", other: "其他检查" };
const RECS = { no_penalty: "不予处罚", first_violation: "首违不罚", lenient: "从轻/减轻", case: "立案" };
const SEVERITIES = { minor: "轻微", general: "一般", major_hazard: "重大事故隐患" };
const HARMS = { none: "没有造成危害后果", minor: "危害后果轻微", serious: "危害后果较重" };
const ORDER_STATES = { issued: "已下达", acknowledged: "企业已确认", submitted: "企业已报送整改", overdue: "已逾期", closed: "已复查结案" };
const DOCS = { inspection_record: "现场检查记录", rectification_order: "责令限期整改指令书", reinspection_opinion: "整改复查意见书" };
const opts = (map, sel) => Object.entries(map).map(([k, v]) => `<option value="${k}"${k === sel ? " selected" : ""}>${esc(v)}</option>`).join("");

async function download(path, name) {
  const res = await api(path, { query: { format: "pdf" }, raw: true });
  if (!res.ok) throw new Error((await res.json()).error.message);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url; a.download = name; document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function renderMine(view) {
  const rows = await api("/api/v1/my/inspections");
  view.innerHTML = `<section class="panel"><h2>我的检查任务</h2>${Object.entries(BUCKETS).map(([b, label]) => {
    const mine = rows.filter((r) => r.bucket === b);
    return `<h3>${esc(label)}（${mine.length}）</h3><table class="my-inspections" data-bucket="${b}"><tbody>${mine.map((r) => `<tr>
      <td><a href="#/inspection/${r.id}">#${r.id} ${esc(r.enterprise_name)}</a></td><td>${esc(SOURCES[r.source] || r.source)}</td>
      <td>${esc(r.planned_from)} ~ ${esc(r.planned_to)}</td><td>${r.role === "leader" ? "检查组长" : "执法人员"}</td></tr>`).join("")
      || `<tr><td class="muted">无</td></tr>`}</tbody></table>`;
  }).join("")}</section>`;
}

function findingRows(findings, inspectionId) {
  return findings.map((f, n) => `<tr data-finding="${f.id}"><td>${n + 1}</td><td>${esc(f.item_code)}</td>
    <td>${esc(f.cause)}</td><td>${esc(f.legal_basis)}${f.basis_free_text ? " <b class=\"error\">（自由填写）</b>" : ""}</td>
    <td>${esc(f.measure)}</td><td>${esc(f.deadline || "当场改正")}</td><td>${esc(SEVERITIES[f.severity] || f.severity)}</td>
    <td class="rec"><b>${esc(RECS[f.decision || f.recommendation] || "")}</b>${f.provisional ? "（待复查确认）" : ""}
      <a href="#/finding/${f.id}" data-finding-link="${f.id}">建议与措施</a><details><summary>审查的规则</summary><ul>${(f.advice || []).map((c) => `<li class="${c.passed ? "" : "muted"}">${c.passed ? "✓" : "✗"} ${esc(c.text)}</li>`).join("")}</ul></details></td>
    <td class="decide">${f.decision ? `已确认（${esc(RECS[f.decision] || f.decision)}）` : f.lapsed_at ? ""
      : `<button type="button" data-confirm="${f.id}" data-rec="${esc(f.recommendation)}">确认建议</button>`}</td>
    <td class="statement">${f.statement ? `企业：${f.statement === "agree" ? "无异议" : `有异议（${esc(f.statement_note)}）`}`
      : `<button type="button" data-agree="${f.id}">企业无异议</button> <input size="12" data-note="${f.id}" placeholder="异议内容">
         <button type="button" data-object="${f.id}">企业有异议</button>`}</td>
    <td>${f.reinspection_result === "passed" ? "复查通过" : f.order_id
      ? `<button type="button" data-reinspect="${f.id}" data-inspection="${inspectionId}">复查通过</button>` : ""}</td></tr>`).join("");
}

// The findings form's checklist items: a drawn inspection offers only what its inspection-item list
// (抽查事项清单) links to, grouped by list item; one made by hand offers the whole catalogue.
function itemOptions(ins, checklist) {
  const option = (e) => `<option value="${esc(e.code)}">${esc(e.code)} ${esc(e.title)}</option>`;
  if (!ins.findings_from_list) return checklist.items.map(option).join("");
  return ins.list_items.map((li) => `<optgroup label="${esc(li.item_id)} ${esc(li.item)}${li.sub_item ? `（${esc(li.sub_item)}）` : ""}">
    ${li.checklist.length ? li.checklist.map(option).join("") : `<option disabled>（未关联清单式执法条目）</option>`}</optgroup>`).join("");
}

function criterionOptions(hc) {
  if (!hc) return "";
  return hc.criteria.map((c) => `<option value="${esc(c.code)}">${esc(c.clause)} ${esc(c.scope ? `[${c.scope}] ` : "")}${esc(c.text)}</option>`).join("");
}

// Supervisors' acts on an inspection (pages in supervise.js); not offered to other roles.
function overseerLinks(ins) {
  if (!["admin", "supervisor"].includes(session.get().role)) return "";
  return `<p class="filters">${ins.status === "planned" ? `<a id="change-team" href="#/team/${ins.id}">调整检查组</a>` : ""}
    <a id="plan-follow-up" href="#/new-inspection/${esc(ins.credit_code)}/${ins.id}">安排复查</a></p>`;
}

async function renderInspection(view, id) {
  const [ins, checklist, evidence] = await Promise.all([
    api(`/api/v1/inspections/${id}`), api("/api/v1/checklist"), api(`/api/v1/inspections/${id}/evidence`)]);
  const offered = ins.findings_from_list ? ins.list_items.flatMap((li) => li.checklist) : checklist.items;
  const items = Object.fromEntries(offered.map((i) => [i.code, i]));
  const hc = ins.hazard_criteria;
  view.innerHTML = `<section class="panel"><h2>检查记录 #${ins.id} · ${esc(ins.enterprise_name)}</h2>
      <p>${esc(SOURCES[ins.source] || ins.source)} · ${esc(ins.planned_from)} ~ ${esc(ins.planned_to)} · <span id="ins-status">${esc(ins.status)}</span></p>
      ${overseerLinks(ins)}
      <table id="team"><thead><tr><th>姓名</th><th>角色</th><th>执法证号</th></tr></thead><tbody>${ins.team.map((m) => `<tr>
        <td>${esc(m.name)}</td><td>${esc(m.role_label)}</td><td>${esc(m.certificate_no || "—")}</td></tr>`).join("")}</tbody></table></section>
    <section class="panel"><h3>检查发现</h3><table id="findings"><thead><tr><th>#</th><th>检查项</th><th>违法事实</th><th>法律依据</th>
      <th>整改措施</th><th>期限</th><th>情节</th><th>处理建议</th><th>决定</th><th>企业意见</th><th></th></tr></thead><tbody>${findingRows(ins.findings, ins.id)}</tbody></table>
      <p class="error" id="wb-error"></p>
      <div class="filters"><button type="button" id="issue-order">下达责令限期整改指令书</button>
      ${Object.entries(DOCS).map(([k, v]) => `<button type="button" data-doc="${k}">${esc(v)}（PDF）</button>`).join("")}</div></section>
    <form class="panel" id="finding-form"><h3>记录检查发现（清单式执法）</h3>
      ${ins.findings_from_list ? `<p class="muted" id="list-note">双随机抽查：只能记录本次抽查事项清单所列事项（${ins.list_items.length}项）</p>` : ""}
      <label>检查项<select name="item_code"><option value="">请选择</option>${itemOptions(ins, checklist)}</select></label>
      <label>法律依据<input name="legal_basis" size="60"></label><span class="muted" id="penalty-basis"></span>
      <label>依据说明（自由填写依据时必填）<input name="basis_reason" size="60"></label>
      <label>违法事实（原因）<textarea name="cause" rows="2" cols="60"></textarea></label>
      <label>整改措施<textarea name="measure" rows="2" cols="60"></textarea></label>
      <label>整改期限<input name="deadline" type="date"></label>
      <label>情节<select name="severity">${opts(SEVERITIES, "minor")}</select></label>
      <label>危害后果<select name="harm"><option value="">未认定</option>${opts(HARMS)}</select></label>
      <label>重大事故隐患判定条款<select name="hazard_criterion"><option value="">${hc ? `${esc(hc.title)}（${esc(hc.source)}）` : "本行业未配置判定标准"}</option>${criterionOptions(hc)}</select></label>
      <label>判定条款（标准未收录的条款，自由填写，将被标记）<input name="criterion_text" size="60"${hc && hc.missing.length ? ` placeholder="未收录：${esc(hc.missing.join("、"))}"` : ""}></label>
      <button class="primary" type="submit">保存检查发现</button>
      <ul class="error" id="finding-errors"></ul></form>
    <form class="panel" id="evidence-form"><h3>证据照片/文件</h3><input type="file" name="file"><input name="note" placeholder="说明">
      <button type="submit">上传</button><ul id="evidence-list">${evidence.map((e) => `<li>${esc(e.filename)} · SHA-256 ${esc(e.sha256.slice(0, 16))}…</li>`).join("")}</ul></form>`;
  const form = view.querySelector("#finding-form");
  form.item_code.addEventListener("change", () => {
    const item = items[form.item_code.value];
    form.legal_basis.value = item ? item.legal_basis : "";
    view.querySelector("#penalty-basis").textContent = item && item.penalty_basis ? `处罚依据：${item.penalty_basis}` : "";
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const body = { ...data, deadline: data.deadline || null, harm: data.harm || null, hazard_criterion: data.hazard_criterion || null };
    const errors = view.querySelector("#finding-errors");
    try {
      await api(`/api/v1/inspections/${id}/findings`, { method: "POST", body });
      renderInspection(view, id);
    } catch (err) {
      const details = err.status === 422 && err.details && typeof err.details === "object" ? Object.entries(err.details) : [];
      errors.innerHTML = details.length
        ? details.map(([k, v]) => `<li data-field="${esc(k)}">${esc(typeof v === "string" ? v : JSON.stringify(v))}</li>`).join("")
        : `<li>${esc(err.message)}</li>`;
    }
  });
  view.querySelector("#evidence-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api(`/api/v1/inspections/${id}/evidence`, { method: "POST", form: new FormData(ev.target) });
      renderInspection(view, id);
    } catch (err) { view.querySelector("#wb-error").textContent = err.message; }
  });
  // One handler per view (a re-render replaces it, never adds another).
  view.onclick = async (ev) => {
    const el = ev.target;
    try {
      if (el.id === "issue-order") {
        await api(`/api/v1/inspections/${id}/rectification`, { method: "POST" });
        renderInspection(view, id);
      } else if (el.dataset.reinspect) {
        await api(`/api/v1/findings/${el.dataset.reinspect}/reinspection`, { method: "POST",
          body: { inspection_id: Number(el.dataset.inspection), result: "passed", note: "现场核实已整改" } });
        renderInspection(view, id);
      } else if (el.dataset.confirm) {
        await api(`/api/v1/findings/${el.dataset.confirm}/decision`, { method: "POST", body: { decision: el.dataset.rec } });
        renderInspection(view, id);
      } else if (el.dataset.agree || el.dataset.object) {
        const fid = el.dataset.agree || el.dataset.object;
        const note = (view.querySelector(`input[data-note="${fid}"]`) || {}).value || "";
        await api(`/api/v1/findings/${fid}/statement`, { method: "POST",
          body: { statement: el.dataset.agree ? "agree" : "object", note } });
        renderInspection(view, id);
      } else if (el.dataset.doc) {
        await download(`/api/v1/inspections/${id}/documents/${el.dataset.doc}`, `${DOCS[el.dataset.doc]}-${id}.pdf`);
      }
    } catch (err) { view.querySelector("#wb-error").textContent = err.message; }
  };
}

async function renderOrders(view, id) {
  const orders = await api("/api/v1/rectifications");
  const order = id ? await api(`/api/v1/rectifications/${id}`) : null;
  view.innerHTML = `<section class="panel"><h2>整改指令</h2><table id="orders"><tbody>${orders.map((o) => `<tr>
      <td><a href="#/rect/${o.id}">${esc(o.doc_no)}</a></td><td>${esc(o.deadline)}</td><td>${esc(ORDER_STATES[o.state] || o.state)}</td></tr>`).join("")
      || `<tr><td class="muted">无</td></tr>`}</tbody></table></section>
    ${order ? `<section class="panel" id="order"><h3>${esc(order.doc_no)} · 整改期限 ${esc(order.deadline)} · <span id="order-state">${esc(ORDER_STATES[order.state] || order.state)}</span></h3>
      <table><tbody>${order.findings.map((f) => `<tr><td>${esc(f.item_code)}</td><td>${esc(f.cause)}</td><td>${esc(f.legal_basis)}</td>
        <td>${esc(f.measure)}</td><td>${f.reinspection_result === "passed" ? "复查通过" : "待复查"}</td></tr>`).join("")}</tbody></table>
      ${session.get().role === "enterprise" && order.state !== "closed" ? `<button type="button" id="ack" class="primary">确认收到</button>
      <form id="rect-evidence"><input type="file" name="file"><input name="note" placeholder="整改说明"><button type="submit">上传整改证据</button></form>` : ""}
      <p><a id="extension-link" href="#/extension-request/${order.id}">${session.get().role === "enterprise" ? "申请延期" : "延期申请"}</a></p>
      <ul id="rect-files">${order.evidence.map((e) => `<li>${esc(e.filename)} · ${esc(fmtTime(e.uploaded_at))}</li>`).join("")}</ul>
      <p class="error" id="rect-error"></p></section>` : ""}`;
  if (!order) return;
  const fail = (err) => { view.querySelector("#rect-error").textContent = err.message; };
  const ack = view.querySelector("#ack");
  if (ack) ack.addEventListener("click", () => api(`/api/v1/rectifications/${id}/ack`, { method: "POST" }).then(() => renderOrders(view, id), fail));
  const up = view.querySelector("#rect-evidence");
  if (up) up.addEventListener("submit", (ev) => {
    ev.preventDefault();
    api(`/api/v1/rectifications/${id}/evidence`, { method: "POST", form: new FormData(up) }).then(() => renderOrders(view, id), fail);
  });
}

export async function render(view, ctx) {
  const [id] = ctx.params;
  if (ctx.page === "inspection") return renderInspection(view, id);
  if (ctx.page === "rect") return renderOrders(view, id);
  return renderMine(view);
}
