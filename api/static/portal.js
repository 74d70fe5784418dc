// The enterprise portal (企业端): report, commit, read and acknowledge, licences — from a phone.
// Reports go to the same pipeline as the site's MQTT uplinks (docs/protocol.md, "Reports over
// HTTPS"); each form keeps the user's input when the server refuses it and says what to fix.

import { api, ApiError, esc, session, setUnauthorizedHandler, signIn } from "./api.js";
import { OP_TYPES, fmtTime, loadMessages, term } from "./i18n.js";

const $ = (sel, root = document) => root.querySelector(sel);
const view = $("#view");
let me = null;

const OP_NAMES = { hot_work: "动火作业", confined_space: "受限空间作业", blind_plate: "盲板抽堵作业",
  work_at_height: "高处作业", lifting: "吊装作业", temp_power: "临时用电作业",
  excavation: "动土作业", road_break: "断路作业" };
const GRADES = { hot_work: [["special", "特级"], ["1", "一级"], ["2", "二级"]],
  work_at_height: [["I", "Ⅰ级"], ["II", "Ⅱ级"], ["III", "Ⅲ级"], ["IV", "Ⅳ级"]],
  lifting: [["1", "一级"], ["2", "二级"], ["3", "三级"]] };
// The restart self-check (复工复产自查) a request carries; each item is answered yes/no.
const SELF_CHECK = ["安全管理机构和人员到岗", "从业人员复工前安全教育培训", "设备设施检查、检测合格",
  "安全设施、仪表和联锁完好投用", "隐患排查整改完毕", "应急预案、物资和救援力量落实"];

const F = {
  text: (name, label, req = true) => ({ name, label, type: "text", req }),
  time: (name, label, req = true) => ({ name, label, type: "datetime-local", req }),
  num: (name, label, req = false) => ({ name, label, type: "number", req }),
};
const OP_ID = F.text("op_id", "作业编号（与作业票一致）");
const FORMS = {
  shutdown: { title: "停产", fields: [
    { name: "scope", label: "范围", type: "select", req: true, options: [["plant", "全厂"], ["unit", "部分装置"]] },
    F.text("units", "停产装置（多个用逗号分隔，部分装置时必填）", false),
    F.text("reason", "停产原因"), F.time("planned_resume", "计划复产时间", false)] },
  resume_request: { title: "复产申请", fields: [F.time("planned_at", "计划复产时间")], selfCheck: true },
  maintenance_start: { title: "检维修开始", fields: [F.text("maint_id", "检维修编号"),
    { name: "scope", label: "范围", type: "select", req: true, options: [["unit", "部分装置"], ["plant", "全厂"]] },
    F.text("units", "检修装置（多个用逗号分隔）", false), F.time("planned_end", "计划结束时间", false)] },
  maintenance_end: { title: "检维修结束", fields: [F.text("maint_id", "检维修编号")] },
  trial_start: { title: "试生产开始", fields: [F.text("trial_id", "试生产编号"), F.time("planned_end", "计划结束时间")] },
  trial_end: { title: "试生产结束", fields: [F.text("trial_id", "试生产编号")] },
  special_op_start: { title: "特殊作业开始", fields: [OP_ID,
    { name: "op_type", label: "作业类型", type: "select", req: true, options: OP_TYPES.map((o) => [o, OP_NAMES[o]]) },
    { name: "grade", label: "作业级别", type: "select", req: false, options: [] },
    F.text("permit_no", "安全作业票编号"), F.time("valid_from", "作业票生效时间"),
    F.time("valid_to", "作业票失效时间"), F.text("location", "作业地点"), F.text("guardian", "监护人"),
    F.text("guardian_cert", "监护人证书编号", false)], gas: true },
  gas_test: { title: "气体分析", fields: [OP_ID], gas: true, gasRequired: true },
  special_op_pause: { title: "作业暂停", fields: [OP_ID] },
  special_op_resume: { title: "作业恢复", fields: [OP_ID] },
  special_op_end: { title: "作业结束", fields: [OP_ID] },
};
const GAS = [F.num("o2_pct", "氧含量（%）"), F.num("lel_pct", "可燃气体（%LEL）"),
  F.text("gas", "可燃气体名称（如 CH4）", false), F.num("h2s_ppm", "硫化氢（ppm）"),
  F.num("co_ppm", "一氧化碳（ppm）"), F.text("analyst", "分析人", false)];

function newId() {
  const r = globalThis.crypto && crypto.randomUUID ? crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
  return `web-${r}`;
}

function toast(text) {
  const el = $("#toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 4000);
}

function field(f) {
  const req = f.req ? " required" : "";
  if (f.type === "select") {
    const opts = f.options.map(([v, l]) => `<option value="${esc(v)}">${esc(l)}</option>`).join("");
    return `<label>${esc(f.label)}<select name="${f.name}"${req}>${f.req ? "" : '<option value="">（未定级）</option>'}${opts}</select></label>`;
  }
  const step = f.type === "number" ? ' step="any" inputmode="decimal"' : "";
  return `<label>${esc(f.label)}<input name="${f.name}" type="${f.type}"${step}${req}></label>`;
}

function rfc3339(local) { return new Date(local).toISOString(); }

/** The event as on MQTT …/event, built from the form; throws a list of what to fix. */
function buildEvent(type, form) {
  const spec = FORMS[type];
  const ev = { event_id: form.dataset.eventId, ts: new Date().toISOString(), type };
  const missing = [];
  for (const f of spec.fields) {
    const el = form.elements[f.name];
    const v = el.value.trim();
    el.classList.remove("invalid");
    if (!v) {
      if (f.req) { missing.push(f.label); el.classList.add("invalid"); }
      continue;
    }
    if (f.type === "datetime-local") ev[f.name] = rfc3339(v);
    else if (f.name === "units") ev.units = v.split(/[,，、\s]+/).filter(Boolean);
    else ev[f.name] = v;
  }
  if (spec.selfCheck) {
    ev.self_check = SELF_CHECK.map((item, i) => {
      const note = form.elements[`note_${i}`].value.trim();
      return { item, ok: form.elements[`ok_${i}`].checked, ...(note ? { note } : {}) };
    });
  }
  if (spec.gas) {
    const g = {};
    for (const f of GAS) {
      const v = form.elements[f.name].value.trim();
      if (!v) continue;
      if (f.type === "number") {
        if (f.name.endsWith("_ppm")) (g.toxic_ppm ||= {})[f.name === "h2s_ppm" ? "H2S" : "CO"] = Number(v);
        else g[f.name] = Number(v);
      } else g[f.name] = v;
    }
    const hasReading = ["o2_pct", "lel_pct", "toxic_ppm"].some((k) => k in g);
    if (spec.gasRequired && !hasReading) missing.push("至少一项气体分析读数");
    if (hasReading) {
      if (type === "gas_test") Object.assign(ev, g);
      else ev.gas_test = { ts: new Date().toISOString(), ...g };
    }
  }
  if (missing.length) throw new Error(`请填写：${missing.join("、")}`);
  return ev;
}

/** Send a report and show the outcome; the input stays when it is refused. */
async function send(path, body, form, done) {
  const out = $(".form-error", form);
  out.hidden = true;
  const button = $("button[type=submit]", form);
  button.disabled = true;
  try {
    const r = await api(`/api/v1/enterprises/${me.enterprise_id}/${path}`, { method: "POST", body });
    toast(r.state === "stored" ? "已上报，监管部门已收到" : r.message);
    done(r);
  } catch (err) {
    out.textContent = err instanceof ApiError ? err.message : String(err.message || err);
    out.hidden = false;
    loadReports();
  } finally {
    button.disabled = false;
  }
}

function reportView() {
  const options = Object.entries(FORMS).map(([k, s]) => `<option value="${k}">${esc(s.title)}</option>`).join("");
  view.innerHTML = `<section class="card"><h1>上报生产状态和作业</h1>
    <label>上报类型<select id="report-type">${options}</select></label>
    <form id="report-form" novalidate></form></section>
    <section class="card"><h2>我的上报</h2><div id="reports" class="muted">加载中…</div></section>`;
  const select = $("#report-type");
  const draw = () => {
    const type = select.value;
    const spec = FORMS[type];
    const form = $("#report-form");
    form.dataset.type = type;
    form.dataset.eventId = newId();
    let html = spec.fields.map(field).join("");
    if (spec.selfCheck) {
      html += `<fieldset><legend>复产自查清单（逐项确认）</legend>${SELF_CHECK.map((item, i) => `
        <div class="check-item"><label class="check"><input type="checkbox" name="ok_${i}" checked>${esc(item)}</label>
        <label>情况说明<input name="note_${i}" placeholder="不符合时写明原因和措施"></label></div>`).join("")}</fieldset>`;
    }
    if (type === "special_op_start") {
      html += '<label>签字的安全作业票照片<input name="permit_photo" type="file" accept="image/*,application/pdf" capture="environment"></label>';
    }
    if (spec.gas) html += `<fieldset><legend>气体分析${spec.gasRequired ? "" : "（开始前的分析）"}</legend><div class="row">${GAS.map(field).join("")}</div></fieldset>`;
    html += `<p class="form-error error" role="alert" hidden></p><button class="primary" type="submit">提交${esc(spec.title)}</button>`;
    form.innerHTML = html;
    const opType = form.elements.op_type;
    if (opType) {
      const grades = () => {
        form.elements.grade.innerHTML = '<option value="">（无级别）</option>' + (GRADES[opType.value] || [])
          .map(([v, l]) => `<option value="${v}">${l}</option>`).join("");
      };
      opType.addEventListener("change", grades);
      grades();
    }
  };
  select.addEventListener("change", draw);
  draw();
  $("#report-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const form = e.target;
    let ev;
    try { ev = buildEvent(form.dataset.type, form); } catch (err) {
      const out = $(".form-error", form);
      out.textContent = err.message;
      out.hidden = false;
      return;
    }
    const photo = form.elements.permit_photo && form.elements.permit_photo.files[0];
    const go = () => send("reports", ev, form, () => { form.reset(); form.dataset.eventId = newId(); loadReports(); });
    if (!photo) { go(); return; }
    const data = new FormData();
    data.append("file", photo);
    data.append("permit_no", ev.permit_no);
    api(`/api/v1/enterprises/${me.enterprise_id}/permit-photos`, { method: "POST", form: data })
      .then((r) => { ev.permit_photo = { evidence_id: r.id, sha256: r.sha256 }; go(); })
      .catch((err) => {
        const out = $(".form-error", form);
        out.textContent = `作业票照片未能上传：${err.message}`;
        out.hidden = false;
      });
  });
  loadReports();
}

async function loadReports() {
  const box = $("#reports");
  if (!box) return;
  const rows = await api(`/api/v1/enterprises/${me.enterprise_id}/reports`);
  box.innerHTML = rows.length ? rows.slice(0, 10).map((r) => `<div class="item" data-report="${r.id}">
    <span class="tag ${r.state === "refused" ? "warn" : ""}">${esc(term("state.portal_reports", r.state))}</span>
    <span class="muted">${esc(fmtTime(r.submitted_at))}</span>${r.message ? `<p>${esc(r.message)}</p>` : ""}</div>`).join("")
    : "暂无上报";
}

async function commitmentView() {
  const today = new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
  const status = await api(`/api/v1/enterprises/${me.enterprise_id}/status`).catch(() => null);
  const counts = {};
  for (const op of (status && status.special_ops) || []) counts[op.op_type] = (counts[op.op_type] || 0) + 1;
  const stopped = status && ["shutdown", "restart_requested", "restart_approved"].includes(status.mode);
  view.innerHTML = `<section class="card"><h1>安全风险研判与承诺公告</h1>
    <p class="muted">已按今天上报的作业预填，请核对后提交；与实际上报不符时监管部门会收到提示。</p>
    <form id="commitment-form" novalidate>
      <label>日期<input name="date" type="date" value="${today}" required></label>
      <div class="row"><label>装置总数<input name="total" type="number" min="0" inputmode="numeric" required></label>
      <label>运行装置<input name="running" type="number" min="0" inputmode="numeric" required></label></div>
      <label>停产装置<input name="stopped" type="number" min="0" inputmode="numeric" required></label>
      <fieldset><legend>今日特殊作业（项）</legend><div class="row">${OP_TYPES.map((o) => `
        <label>${esc(OP_NAMES[o])}<input name="op_${o}" type="number" min="0" inputmode="numeric" value="${counts[o] || 0}"></label>`).join("")}</div></fieldset>
      <div class="row"><label>检维修（项）<input name="maintenance" type="number" min="0" value="${(status && status.maintenance.length) || 0}"></label>
      <label>承包商作业（项）<input name="contractor_work" type="number" min="0" value="0"></label></div>
      <label class="check"><input type="checkbox" name="trial_production"${status && status.trial_id ? " checked" : ""}>试生产</label>
      <label class="check"><input type="checkbox" name="startup_shutdown"${stopped ? " checked" : ""}>开停车</label>
      <label>风险等级<select name="risk_level" required><option value="">请选择</option>
        <option value="1">1 重大风险</option><option value="2">2 较大风险</option><option value="3">3 一般风险</option><option value="4">4 低风险</option></select></label>
      <label>承诺人<input name="committed_by" required value="${esc(me.username)}"></label>
      <p class="form-error error" role="alert" hidden></p>
      <button class="primary" type="submit">提交承诺公告</button></form></section>`;
  $("#commitment-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const f = e.target.elements;
    const missing = ["total", "running", "stopped", "risk_level", "committed_by"].filter((n) => !f[n].value.trim());
    for (const n of ["total", "running", "stopped", "risk_level", "committed_by"]) f[n].classList.toggle("invalid", missing.includes(n));
    if (missing.length) {
      const out = $(".form-error", e.target);
      out.textContent = `请填写：${missing.map((n) => f[n].closest("label").firstChild.textContent.trim()).join("、")}`;
      out.hidden = false;
      return;
    }
    const int = (n) => Number.parseInt(f[n].value || "0", 10);
    const body = { date: f.date.value, units: { total: int("total"), running: int("running"), stopped: int("stopped") },
      special_ops: OP_TYPES.filter((o) => int(`op_${o}`) > 0).map((o) => ({ op_type: o, count: int(`op_${o}`) })),
      maintenance: int("maintenance"), contractor_work: int("contractor_work"),
      trial_production: f.trial_production.checked, startup_shutdown: f.startup_shutdown.checked,
      risk_level: int("risk_level"), committed_by: f.committed_by.value.trim(), committed_at: new Date().toISOString() };
    send("commitments", body, e.target, () => {});
  });
}

async function inboxView() {
  const page = await api(`/api/v1/enterprises/${me.enterprise_id}/guidance`, { query: { limit: 50 } });
  const open = page.items.filter((d) => d.requires_ack && !["acknowledged", "expired"].includes(d.state));
  const badge = $("#unread");
  badge.textContent = String(open.length);
  badge.hidden = !open.length;
  view.innerHTML = `<section class="card"><h1>消息（指导、通知、提醒、决定）</h1><div id="inbox">${page.items.map((d) => `
    <div class="item" data-ref="${esc(d.ref)}"><span class="tag">${d.channel === "guidance" ? "远程指导" : esc(term("notice_kind", d.kind) || "通知")}</span>
      <span class="muted">${esc(fmtTime(d.created_at))}</span><p>${esc(d.text)}</p>
      ${d.state === "acknowledged" ? `<span class="ok">已确认 ${esc(fmtTime(d.acked_at))}</span>`
        : d.requires_ack && d.state !== "expired" ? `<button type="button" class="primary ack" data-ref="${esc(d.ref)}">确认收到</button>` : ""}
    </div>`).join("") || '<p class="muted">暂无消息</p>'}</div><p class="form-error error" role="alert" hidden></p></section>`;
  view.querySelectorAll("button.ack").forEach((b) => b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      await api(`/api/v1/enterprises/${me.enterprise_id}/acks`, { method: "POST",
        body: { ref: b.dataset.ref, ts: new Date().toISOString(), by: me.username } });
      toast("已确认");
      await inboxView();
    } catch (err) {
      const out = $(".form-error", view);
      out.textContent = err.message;
      out.hidden = false;
      b.disabled = false;
    }
  }));
}

// Rectification orders (责令限期整改指令书, issue 15's API): acknowledge, upload evidence, ask for
// more time. Each form keeps its input when it is refused; the server sniffs the file type again.
const ORDER_STATES = { issued: "待确认", acknowledged: "已确认，整改中", submitted: "已报送整改证据",
  overdue: "已逾期", closed: "已复查结案" };
const EXT_STATES = { pending: "待审批", approved: "已同意", rejected: "未同意" };
const EVIDENCE_TYPES = ["image/jpeg", "image/png", "image/webp", "application/pdf"];
const EVIDENCE_MAX_MB = 10;  // domain/evidence.py DEFAULT_LIMITS (the server checks it again)

function orderCard(o) {
  const open = o.state !== "closed";
  return `<div class="item order" data-order="${o.id}"><b>${esc(o.doc_no)}</b>
    <span class="tag ${["issued", "overdue"].includes(o.state) ? "warn" : ""} order-state">${esc(ORDER_STATES[o.state] || o.state)}</span>
    <p class="muted">整改期限 ${esc(o.deadline)} · 下达 ${esc(fmtTime(o.issued_at))}</p>
    <ol class="findings">${o.findings.map((f) => `<li><p>${esc(f.cause)}</p>
      <p><b>整改措施：</b>${esc(f.measure)}</p><p class="muted">期限 ${esc(f.deadline || o.deadline)}</p></li>`).join("")}</ol>
    ${o.state === "issued" ? `<button type="button" class="primary rect-ack" data-order="${o.id}">确认收到整改指令</button>` : ""}
    <h2>整改证据</h2><ul class="evidence">${o.evidence.map((e) => `<li data-sha="${esc(e.sha256)}">${esc(e.filename)}
      · ${(e.size_bytes / 1024).toFixed(1)} KB · ${esc(fmtTime(e.uploaded_at))}<br><span class="muted sha">SHA-256 ${esc(e.sha256)}</span></li>`).join("")
      || '<li class="muted">尚未上传</li>'}</ul>
    ${open ? `<form class="rect-evidence" novalidate><label>整改后的照片或文件（JPG、PNG、WebP、PDF，不超过${EVIDENCE_MAX_MB} MB）
        <input name="file" type="file" accept="image/jpeg,image/png,image/webp,application/pdf"></label>
      <label>整改说明<input name="note" maxlength="500"></label>
      <p class="form-error error" role="alert" hidden></p><button class="primary" type="submit">上传整改证据</button></form>
      ${o.extensions.map((x) => `<p class="muted extension">延期申请至 ${esc(x.requested_deadline)}：${esc(EXT_STATES[x.state] || x.state)}${x.decision_reason ? `（${esc(x.decision_reason)}）` : ""}</p>`).join("")}
      <form class="rect-extension" novalidate><h2>申请延期</h2>
        <label>申请延期至<input name="requested_deadline" type="date"></label>
        <label>延期理由<textarea name="reason" rows="3" maxlength="1000"></textarea></label>
        <p class="form-error error" role="alert" hidden></p><button class="primary" type="submit">提交延期申请</button></form>` : ""}
  </div>`;
}

async function rectView() {
  const orders = await api("/api/v1/rectifications");
  view.innerHTML = `<section class="card"><h1>整改指令</h1><div id="orders">${orders.map(orderCard).join("")
    || '<p class="muted">暂无整改指令</p>'}</div><p class="form-error error" role="alert" hidden></p></section>`;
  view.querySelectorAll("button.rect-ack").forEach((b) => b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      await api(`/api/v1/rectifications/${b.dataset.order}/ack`, { method: "POST" });
      toast("已确认收到整改指令");
      await rectView();
    } catch (err) {
      const out = $(":scope > section > .form-error", view);
      out.textContent = err.message;
      out.hidden = false;
      b.disabled = false;
    }
  }));
  view.querySelectorAll("form.rect-evidence").forEach((form) => onSubmit(form, async (f) => {
    const file = f.file.files[0];
    f.file.classList.toggle("invalid", !file);
    if (!file) throw new Error("请选择整改后的照片或文件");
    if (file.type && !EVIDENCE_TYPES.includes(file.type)) {
      throw new Error("只能上传 JPG、PNG、WebP 图片或 PDF 文件");
    }
    if (file.size > EVIDENCE_MAX_MB * 1024 * 1024) throw new Error(`文件超过 ${EVIDENCE_MAX_MB} MB，请压缩后重新上传`);
    const id = form.closest(".order").dataset.order;
    const data = new FormData();
    data.append("file", file);
    data.append("note", f.note.value.trim());
    const r = await api(`/api/v1/rectifications/${id}/evidence`, { method: "POST", form: data });
    toast(`已上传，SHA-256 ${r.sha256.slice(0, 16)}…`);
    await rectView();
  }));
  view.querySelectorAll("form.rect-extension").forEach((form) => onSubmit(form, async (f) => {
    const missing = [["requested_deadline", "申请延期至"], ["reason", "延期理由"]].filter(([n]) => !f[n].value.trim());
    for (const n of ["requested_deadline", "reason"]) f[n].classList.toggle("invalid", missing.some(([m]) => m === n));
    if (missing.length) throw new Error(`请填写：${missing.map(([, l]) => l).join("、")}`);
    const id = form.closest(".order").dataset.order;
    await api(`/api/v1/rectifications/${id}/extensions`, { method: "POST",
      body: { requested_deadline: f.requested_deadline.value, reason: f.reason.value.trim() } });
    toast("延期申请已提交，等待监管部门审批");
    await rectView();
  }));
}

async function licencesView() {
  const rows = await api(`/api/v1/enterprises/${me.enterprise_id}/licences`);
  view.innerHTML = `<section class="card"><h1>许可证</h1><div id="licences">${rows.map((l) => `
    <div class="item" data-number="${esc(l.number)}"><b>${esc(l.kind)}</b> <span class="tag ${l.stage === "none" ? "" : "warn"}">${esc(l.stage_label)}</span>
      <p class="muted">编号 ${esc(l.number)} · 有效期至 ${esc(l.valid_to)} · 申请延期截止 ${esc(l.deadline)}</p>
      ${l.reminder ? `<p class="reminder">${esc(l.reminder)}</p>` : `<p class="muted">办理程序：${esc(l.procedure)}</p>`}
      <p class="muted">依据：${esc(l.sources.join("；"))}</p></div>`).join("") || '<p class="muted">暂无许可证信息</p>'}</div></section>`;
}

/** A small form's submit: values out, the server's answer in; the input stays on an error. */
function onSubmit(form, run) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const out = $(".form-error", form);
    out.hidden = true;
    try { await run(form.elements); } catch (err) {
      out.textContent = err.message;
      out.hidden = false;
    }
  });
}

async function accountView() {
  const ent = me.enterprise_id;
  const [accounts, contacts] = await Promise.all([api(`/api/v1/enterprises/${ent}/accounts`),
    api(`/api/v1/enterprises/${ent}/contacts`)]);
  const mine = accounts.find((a) => a.username === me.username);
  const manager = Boolean(mine && mine.manager);
  const input = (name, label, type = "text", value = "") =>
    `<label>${label}<input name="${name}" type="${type}" value="${esc(value)}"></label>`;
  view.innerHTML = `<section class="card"><h1>本企业账号</h1><div id="accounts">${accounts.map((a) => `
    <div class="item" data-user="${esc(a.username)}"><b>${esc(a.display_name || a.username)}</b>
      <span class="tag">${a.manager ? "管理员" : "上报员"}</span>${a.active ? "" : '<span class="tag warn">已停用</span>'}
      ${manager && !a.manager && a.active ? `<button type="button" class="deactivate" data-id="${a.id}">停用</button>` : ""}</div>`).join("")}</div>
    ${manager ? `<form id="reporter-form" novalidate><h2>增加上报员</h2>${input("username", "用户名（字母、数字）")}
      ${input("display_name", "姓名")}${input("password", "初始密码（至少10位）", "password")}
      <p class="form-error error" role="alert" hidden></p><button class="primary" type="submit">增加上报员</button></form>` : ""}</section>
    <section class="card"><form id="contacts-form" novalidate><h2>接收通知的联系人</h2>
      ${[0, 1, 2].map((i) => `<fieldset><legend>联系人${i + 1}</legend>${input(`name_${i}`, "姓名", "text", (contacts[i] || {}).name || "")}
        ${input(`phone_${i}`, "电话", "tel", (contacts[i] || {}).phone || "")}${input(`role_${i}`, "职务", "text", (contacts[i] || {}).role || "")}</fieldset>`).join("")}
      <p class="form-error error" role="alert" hidden></p>
      ${manager ? '<button class="primary" type="submit">保存联系人</button>' : '<p class="muted">联系人由本企业管理员维护。</p>'}</form></section>
    <section class="card"><form id="password-form" novalidate><h2>修改密码</h2>
      ${input("current_password", "当前密码", "password")}${input("new_password", "新密码（至少10位）", "password")}
      <p class="form-error error" role="alert" hidden></p><button class="primary" type="submit">修改密码</button></form></section>`;
  view.querySelectorAll("button.deactivate").forEach((b) => b.addEventListener("click", async () => {
    await api(`/api/v1/enterprises/${ent}/accounts/${b.dataset.id}/deactivate`, { method: "POST" });
    toast("已停用");
    await accountView();
  }));
  if (manager) {
    onSubmit($("#reporter-form"), async (f) => {
      await api(`/api/v1/enterprises/${ent}/accounts`, { method: "POST", body: {
        username: f.username.value.trim(), display_name: f.display_name.value.trim(), password: f.password.value } });
      toast("已增加上报员");
      await accountView();
    });
    onSubmit($("#contacts-form"), async (f) => {
      const list = [0, 1, 2].map((i) => ({ name: f[`name_${i}`].value.trim(), phone: f[`phone_${i}`].value.trim(),
        role: f[`role_${i}`].value.trim() })).filter((c) => c.name);
      await api(`/api/v1/enterprises/${ent}/contacts`, { method: "PUT", body: { contacts: list } });
      toast("联系人已保存");
    });
  }
  onSubmit($("#password-form"), async (f) => {
    if (f.new_password.value.length < 10) throw new Error("新密码至少10位");
    await api("/api/v1/auth/password", { method: "POST", body: {
      current_password: f.current_password.value, new_password: f.new_password.value } });
    f.current_password.value = "";
    f.new_password.value = "";
    toast("密码已修改");
  });
}

const VIEWS = { report: reportView, commitment: commitmentView, inbox: inboxView, rect: rectView, licences: licencesView,
  account: accountView };

async function route() {
  const tab = (location.hash || "#report").slice(1);
  const show = VIEWS[tab] || reportView;
  document.querySelectorAll("#tabs a").forEach((a) => a.classList.toggle("on", a.dataset.tab === tab));
  try { await show(); } catch (err) {
    view.innerHTML = `<p class="error">${esc(err.message || String(err))}</p>`;
  }
}

// Phone video (measure 15): answer duty staff's request with the rear camera; talkback plays.
const call = { pc: null, stream: null, sid: null, ice: [], timer: null };

async function pollVideo() {
  if (!me || me.role !== "enterprise" || call.pc || document.hidden) return;
  try {
    const w = await api(`/api/v1/enterprises/${me.enterprise_id}/video/requests`);
    call.ice = w.ice_servers;
    call.sid = w.sessions[0] || null;
    $("#video-call").hidden = !call.sid;
  } catch { /* the next poll tries again */ }
}

function iceGathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, 3000);  // answer with what was gathered (host candidates first)
  });
}

async function answerCall() {
  const err = $("#call-error");
  err.hidden = true;
  $("#call-answer").disabled = true;
  try {
    call.stream = await navigator.mediaDevices.getUserMedia({ audio: false,
      video: { facingMode: { ideal: "environment" }, width: { ideal: 640 }, height: { ideal: 480 } } });
    const pc = new RTCPeerConnection({ iceServers: call.ice });
    call.pc = pc;
    for (const track of call.stream.getVideoTracks()) pc.addTransceiver(track, { direction: "sendonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.addEventListener("track", (e) => {
      if (e.track.kind === "audio") $("#call-audio").srcObject = new MediaStream([e.track]);
    });
    pc.addEventListener("connectionstatechange", () => {
      $("#call-state").textContent = { connecting: "连接中…", connected: "已连线，正在传送画面",
        failed: "连接失败", closed: "已挂断" }[pc.connectionState] || "";
      if (pc.connectionState === "failed") hangupCall();
    });
    await pc.setLocalDescription(await pc.createOffer());
    await iceGathered(pc);
    const ans = await api(`/api/v1/video/sessions/${call.sid}/phone-offer`,
      { method: "POST", body: { type: "offer", sdp: pc.localDescription.sdp } });
    await pc.setRemoteDescription({ type: "answer", sdp: ans.sdp });
    const preview = $("#call-preview");
    preview.srcObject = call.stream;
    preview.hidden = false;
    $("#call-answer").hidden = true;
    $("#call-hangup").hidden = false;
  } catch (ex) {
    err.textContent = ex.name === "NotAllowedError" ? "未获得摄像头权限，请在浏览器设置中允许后重试"
      : `接听失败：${ex.message}`;
    err.hidden = false;
    hangupCall(false);
  }
}

function hangupCall(hide = true) {
  if (call.pc) call.pc.close();
  if (call.stream) call.stream.getTracks().forEach((t) => t.stop());
  call.pc = null;
  call.stream = null;
  $("#call-preview").hidden = true;
  $("#call-answer").hidden = false;
  $("#call-answer").disabled = false;
  $("#call-hangup").hidden = true;
  if (hide) $("#video-call").hidden = true;
}

function signedIn(s) {
  me = s;
  $("#login-form").hidden = true;
  $("#tabs").hidden = false;
  $("#logout").hidden = false;
  $("#who").textContent = `${s.username}`;
  if (s.role !== "enterprise") {
    view.innerHTML = '<p class="error">企业端仅供企业账号使用，值班人员请使用<a href="/ui/">值班台</a>。</p>';
    return;
  }
  route();
  pollVideo();
}

function signedOut() {
  session.clear();
  me = null;
  $("#login-form").hidden = false;
  $("#tabs").hidden = true;
  $("#logout").hidden = true;
  $("#who").textContent = "";
  view.innerHTML = "";
}

async function main() {
  await loadMessages();
  setUnauthorizedHandler(signedOut);
  window.addEventListener("hashchange", () => { if (me) route(); });
  $("#logout").addEventListener("click", signedOut);
  $("#call-answer").addEventListener("click", answerCall);
  $("#call-hangup").addEventListener("click", () => hangupCall());
  call.timer = setInterval(pollVideo, 2000);
  $("#login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target.elements;
    const err = $("#login-error");
    err.hidden = true;
    try {
      signedIn(await signIn(f.username.value.trim(), f.password.value));
    } catch (ex) {
      err.textContent = `登录失败：${ex.message}`;
      err.hidden = false;
    }
  });
  const s = session.get();
  if (s && s.token && s.expires_at > Date.now()) signedIn(s); else signedOut();
}

main();
