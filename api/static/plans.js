// Plans and draws: create a plan, run or freeze a draw, teams and exclusions, download lists.
import { api, download, esc } from "./api.js";
import { fmtNum, fmtTime, t, term } from "./i18n.js";

const split = (text) => String(text || "").split(/[,，、\s]+/).map((s) => s.trim()).filter(Boolean);

function planForm() {
  return `<form id="plan-form" class="panel"><h3>${esc(t("create_plan"))}</h3><div class="filters">
    <input name="plan_id" required pattern="[A-Za-z0-9_.:-]{1,64}" placeholder="计划编号（如 CJ-2026-12）">
    <input name="title" placeholder="${esc(t("plan"))}" size="24">
    <input name="departments" required placeholder="部门（逗号分隔）" value="应急管理局">
    <input name="team_size" type="number" min="2" value="2" title="每组人数" style="width:5em">
    <input name="ratio" placeholder="${esc(t("ratio"))}（空=默认分层）" size="12">
    <input name="counties" placeholder="${esc(t("county"))}（空=全部）">
    <input name="sectors" placeholder="${esc(t("sector"))}（空=全部）">
    <input name="cron" placeholder="${esc(t("schedule"))} cron（如 0 9 1 * *）">
    <label><input type="checkbox" name="own_county_rule" checked> 本县区回避</label>
    <button class="primary" type="submit">${esc(t("submit"))}</button></div>
    <p class="error" id="plan-error"></p></form>`;
}

function planBody(form) {
  const f = Object.fromEntries(new FormData(form));
  const body = { plan_id: f.plan_id, title: f.title || "", team: { departments: split(f.departments), size: Number(f.team_size) || 2 },
    scope: { counties: split(f.counties), sectors: split(f.sectors) }, own_county_rule: f.own_county_rule === "on" };
  if (f.ratio) body.strata = [{ ratio: f.ratio }];
  if (f.cron) body.schedule = { cron: f.cron, timezone: "Asia/Shanghai" };
  return body;
}

async function renderPlans(view, { live }) {
  view.innerHTML = `${planForm()}<section class="panel"><h3>${esc(t("plans"))}</h3>
    <table id="plans"><thead><tr><th>编号</th><th>${esc(t("plan"))}</th><th>${esc(t("schedule"))}</th><th>${esc(t("created"))}</th></tr></thead><tbody></tbody></table></section>
    <section class="panel"><h3>${esc(t("draws"))}</h3><table id="draws"><thead><tr><th>#</th><th>${esc(t("plan"))}</th><th>${esc(t("period"))}</th>
    <th>${esc(t("state"))}</th><th>${esc(t("commitment"))}</th><th></th></tr></thead><tbody></tbody></table></section>`;
  async function load() {
    const [plans, draws] = await Promise.all([api("/api/v1/plans", { query: { limit: 200 } }), api("/api/v1/draws", { query: { limit: 50 } })]);
    view.querySelector("#plans tbody").innerHTML = plans.items.map((p) => `<tr><td><a href="#/plans/${encodeURIComponent(p.plan_id)}" class="mono">${esc(p.plan_id)}</a></td>
      <td>${esc(p.title)}</td><td class="mono">${esc(p.cron || "—")}</td><td>${esc(fmtTime(p.created_at))}</td></tr>`).join("") || `<tr><td class="muted" colspan="4">${esc(t("none"))}</td></tr>`;
    view.querySelector("#draws tbody").innerHTML = draws.items.map(drawRow).join("") || `<tr><td class="muted" colspan="6">${esc(t("none"))}</td></tr>`;
  }
  view.querySelector("#plan-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const plan = await api("/api/v1/plans", { method: "POST", body: planBody(ev.target) });
      location.hash = `#/plans/${encodeURIComponent(plan.plan_id)}`;
    } catch (err) { view.querySelector("#plan-error").textContent = err.message; }
  });
  await load();
  return live.on((msg) => { if (String(msg.kind).startsWith("draw")) load(); });
}

function drawRow(d) {
  return `<tr data-draw="${d.id}"><td><a href="#/draw/${d.id}">${d.id}</a></td><td class="mono">${esc(d.plan_id)}</td><td class="mono">${esc(d.period)}</td>
    <td>${esc(drawState(d))}</td><td class="mono">${esc(d.commitment.slice(0, 16))}…</td>
    <td>${esc(fmtTime(d.drawn_at || d.frozen_at))}</td></tr>`;
}

async function renderPlan(view, id, { live }) {
  const plan = await api(`/api/v1/plans/${encodeURIComponent(id)}`);
  const today = new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
  view.innerHTML = `<section class="panel"><h2><span class="mono">${esc(plan.plan_id)}</span> ${esc(plan.title)}</h2>
      <div id="plan-spec">${specHtml(plan.spec)}</div></section>
    <form class="panel" id="draw-form"><h3>${esc(t("run_draw"))}</h3>
      <p class="muted">每个计划每个检查期只抽取一次：先冻结并公布承诺值，到公开随机数读取时间后再抽取；重抽须由主管说明理由，两次抽取均公开。</p>
      <div class="filters">
      <label>${esc(t("period"))} <input name="start" type="date" required value="${esc(today)}"></label>
      <label>至 <input name="end" type="date" required></label></div>
      <div class="filters"><label>${esc(term("plan_field", "public_value"))}
        <select name="kind"><option value="">${esc(term("public_source_kind", "none"))}</option>
          <option value="lottery">${esc(term("public_source_kind", "lottery"))}</option>
          <option value="beacon">${esc(term("public_source_kind", "beacon"))}</option></select></label>
      <input name="source_name" placeholder="${esc(term("plan_field", "name"))}（如 中国福利彩票双色球）">
      <input name="round" placeholder="${esc(term("plan_field", "round"))}">
      <label>${esc(term("plan_field", "read_after"))}（北京时间）<input name="read_after" type="datetime-local"></label></div>
      <div class="filters"><input name="public_value" placeholder="${esc(t("public_value"))}（已冻结期次抽取时填写）">
      <label><input type="checkbox" name="freeze_only"> 仅冻结（见证抽取）</label></div>
      <div class="filters"><label>重抽理由 <select name="repeat_reason"><option value="">（首次抽取）</option>
        ${["population_error", "staffing_failure", "public_value_unavailable", "review_order", "other"].map((r) =>
          `<option value="${r}">${esc(term("repeat_reason", r))}</option>`).join("")}</select></label>
      <input name="repeat_note" placeholder="主管说明（不公开）" maxlength="500">
      <button class="primary" type="submit">${esc(t("run_draw"))}</button></div><p class="error" id="draw-error"></p></form>
    <section class="panel"><h3>${esc(t("draws"))}</h3><table id="draws"><tbody>${plan.draws.map(drawRow).join("")}</tbody></table></section>`;
  view.querySelector("#draw-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(ev.target));
    try {
      const body = { period: { start: f.start, end: f.end }, public_value: f.public_value || "", freeze_only: f.freeze_only === "on" };
      if (f.kind) body.public_source = { kind: f.kind, name: f.source_name, round: f.round || "", read_after: `${f.read_after}:00+08:00` };
      if (f.repeat_reason) body.repeat = { reason: f.repeat_reason, note: f.repeat_note };
      const d = await api(`/api/v1/plans/${encodeURIComponent(id)}/draw`, { method: "POST", body });
      location.hash = `#/draw/${d.id}`;
    } catch (err) { view.querySelector("#draw-error").textContent = err.message; }
  });
  return live.on(async (msg) => {
    if (!String(msg.kind).startsWith("draw")) return;
    const fresh = await api(`/api/v1/plans/${encodeURIComponent(id)}`);
    view.querySelector("#draws tbody").innerHTML = fresh.draws.map(drawRow).join("");
  });
}

/** A draw's state and completeness as a person reads them. */
function drawState(d) {
  const state = d.state === "drawn" ? t("published") : term("state.draws", d.state);
  const attempt = d.attempt > 1 ? ` · 第${fmtNum(d.attempt)}次抽取（${term("repeat_reason", d.repeat_reason)}）` : "";
  return (d.status ? `${state} · ${term("state.draws", d.status)}` : state) + attempt;
}

/** Where the public value comes from, as the frozen record names it. */
function sourceText(d) {
  const s = d.public_source;
  if (!s) return "—";
  if (s.kind === "none") return term("public_source_kind", "none");
  return `${term("public_source_kind", s.kind)}：${s.name}${s.round ? ` 第${s.round}期` : "（读取时间后首期）"}，${fmtTime(s.read_after)} 后读取`;
}

/** Why a selected enterprise has no full team: the pool, the reason and the counts behind it. */
function unstaffedText(u) {
  const name = !u.pool ? "" : u.pool.startsWith("dept:") ? u.pool.slice(5) : term("pool", u.pool);
  const counts = u.needed !== undefined ? `（需${fmtNum(u.needed)}人，已派${fmtNum(u.assigned ?? 0)}人）` : "";
  const priority = u.priority !== undefined ? `（${term("plan_field", "priority")}${fmtNum(u.priority)}）` : "";
  return `${name ? `${name}：` : ""}${term("draw_reason", u.reason)}${counts}${priority}`;
}

// How each plan field's values read: a vocabulary per field, yes/no, or as written.
const VALUE_TERMS = { sectors: "sector", sector: "sector", mode: "draw_mode", shutdown_policy: "shutdown_policy",
  shutdown_states: "directory_state", public_value: "public_value_source", risk_colour: "severity",
  timezone: "timezone", reason: "exclusion_reason", kind: "public_source_kind" };
// Identifiers and codes stay as written (in the monospace face of codes).
const CODE_FIELDS = new Set(["plan_id", "fixed_list", "code", "cron", "period_format", "label", "sources"]);

function specValue(key, v) {
  if (v === null || v === undefined || v === "") return esc("—");
  if (typeof v === "boolean") return esc(t(v ? "yes" : "no"));
  if (typeof v === "number") return esc(fmtNum(v));
  if (v === "*") return esc(t("all"));
  if (Array.isArray(v)) {
    if (!v.length) return esc(t("all"));
    return v.map((x) => (typeof x === "object" ? specHtml(x) : specValue(key, x))).join("、");
  }
  if (typeof v === "object") return specHtml(v);
  if (CODE_FIELDS.has(key)) return `<span class="mono">${esc(String(v))}</span>`;
  return esc(VALUE_TERMS[key] ? term(VALUE_TERMS[key], v) : String(v));
}

/** A plan's spec as a labelled list (never raw JSON): field names and codes from the catalogue. */
export function specHtml(spec) {
  return `<dl class="kv">${Object.entries(spec || {}).map(([k, v]) =>
    `<dt>${esc(term("plan_field", k))}</dt><dd>${specValue(k, v)}</dd>`).join("")}</dl>`;
}

// An officer: the draw's pseudonym; name and certificate number where shown (staff, 公示).
const person = (p) => (!p ? "—" : p.name
  ? `${esc(p.name)}<span class="muted">（${esc(p.certificate_no || p.department)}）</span>`
  : `<span class="mono">${esc(p.pseudonym || "—")}</span><span class="muted">（${esc(p.department)}）</span>`);

export function drawDetailHtml(d, { staff }) {
  const verify = `<dl class="kv"><dt>${esc(t("algorithm"))}</dt><dd class="mono">${esc(d.algorithm)}</dd>
    <dt>${esc(t("commitment"))}</dt><dd class="mono">${esc(d.commitment)}</dd>
    <dt>${esc(t("secret"))}</dt><dd class="mono">${esc(d.secret || "（抽取后公布）")}</dd>
    <dt>${esc(term("plan_field", "kind"))}</dt><dd id="public-source">${esc(sourceText(d))}</dd>
    <dt>冻结时间</dt><dd>${esc(fmtTime(d.frozen_at))}</dd>
    <dt>${esc(t("public_value"))}</dt><dd class="mono">${esc(d.public_value ?? "—")}</dd><dt>${esc(t("seed"))}</dt><dd class="mono">${esc(d.seed || "—")}</dd>
    <dt>${esc(t("hash"))}</dt><dd>${esc(t("hash_rules"))} <span class="mono">${esc(d.hash_rules)}</span><br>${esc(t("hash_enterprises"))} <span class="mono">${esc(d.hash_enterprises)}</span><br>${esc(t("hash_officers"))} <span class="mono">${esc(d.hash_officers)}</span><br>${esc(t("hash_eligibility"))} <span class="mono">${esc(d.hash_eligibility)}</span></dd></dl>`;
  const teams = d.selected.map((s) => `<tr><td>${s.position + 1}</td><td>${esc(s.name || s.credit_code)}<div class="mono muted">${esc(s.credit_code)}</div></td>
    <td class="mono">${esc(s.stratum)}</td><td>${person(s.leader)}</td><td>${s.members.map(person).join("、") || "—"}</td>
    <td>${s.experts.map(person).join("、") || "—"}</td><td>${s.staffed ? "" : `<span class="error">${esc(s.unstaffed.map(unstaffedText).join("；"))}</span>`}</td></tr>`).join("");
  // A plan's own exclusion reason reads as a term; other details are codes (dates, strata, counts).
  const detail = (e) => (e.reason === "excluded_by_plan" ? esc(term("exclusion_reason", e.detail)) : `<span class="mono">${esc(e.detail)}</span>`);
  const excluded = d.excluded.map((e) => `<tr><td>${esc(e.kind === "officer" ? t("officers") : t("enterprises"))}</td><td>${esc(e.subject)}</td><td>${esc(term("draw_reason", e.reason))}</td><td class="muted">${detail(e)}</td></tr>`).join("");
  return `<section class="panel"><h2>#${d.id} <span class="mono">${esc(d.plan_id)} · ${esc(d.period)}</span> · ${esc(drawState(d))}</h2>
      <p class="muted">${esc(d.period_start)} — ${esc(d.period_end)}</p>
      <div class="filters" id="downloads">${staff ? `<button type="button" data-dl="csv">${esc(t("download"))} CSV</button>
        <button type="button" data-dl="xlsx">XLSX</button><button type="button" data-dl="html">任务通知书</button>` : ""}
        ${staff ? `<button type="button" data-dl="json">draw-${d.id}.json</button>` : `<a href="${esc(d.document_url)}" download>draw-${d.id}.json</a>`}
        <a href="${esc(d.verifier_url)}" download>${esc(t("verifier"))}</a></div></section>
    <section class="panel"><h3>${esc(t("verification"))}</h3>${verify}<p class="muted mono">python3 verifier.py draw-${d.id}.json</p>
      <p class="muted">执法人员以本次抽取专用的化名公布；持审计密钥的公证人员可核对化名对应人员。</p></section>
    <section class="panel"><h3>${esc(t("teams"))}（${d.selected.length}）</h3><table id="teams"><thead><tr><th>#</th><th>${esc(t("enterprises"))}</th>
      <th>${esc(t("strata"))}</th><th>组长</th><th>组员</th><th>${esc(t("experts"))}</th><th></th></tr></thead><tbody>${teams}</tbody></table></section>
    <section class="panel"><h3>${esc(t("exclusions"))}（${d.excluded.length}）</h3><table id="exclusions"><tbody>${excluded}</tbody></table></section>`;
}

async function renderDraw(view, id, { live, session }) {
  const d = await api(`/api/v1/draws/${id}`);
  const editor = ["admin", "supervisor"].includes(session.role);
  view.innerHTML = drawDetailHtml(d, { staff: true }) + (d.state === "frozen" && editor ? `<form class="panel" id="witness-form">
      <h3>见证抽取</h3><p class="muted">${esc(sourceText(d))}</p><div class="filters"><input name="public_value" placeholder="${esc(t("public_value"))}">
      <input name="witness_secrets" placeholder="见证人密钥（64位十六进制，多个以空格分隔）">
      <button class="primary" type="submit">${esc(t("run_draw"))}</button></div><p class="error" id="witness-error"></p></form>` : "");
  view.querySelector("#downloads").addEventListener("click", async (ev) => {
    const fmt = ev.target.dataset.dl;
    if (!fmt) return;
    const path = fmt === "json" ? `/api/v1/draws/${id}/document` : `/api/v1/draws/${id}/lists?format=${fmt}`;
    const name = fmt === "json" ? `draw-${id}.json` : `draw-${id}-lists.${fmt}`;
    try { await download(path, name); } catch (err) { window.swToast(err.message); }
  });
  const witness = view.querySelector("#witness-form");
  if (witness) witness.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const f = new FormData(ev.target);
      const witnesses = String(f.get("witness_secrets") || "").split(/\s+/).filter(Boolean);
      await api(`/api/v1/draws/${id}/draw`, { method: "POST", body: { public_value: f.get("public_value"), witness_secrets: witnesses } });
      renderDraw(view, id, { live, session });
    } catch (err) { view.querySelector("#witness-error").textContent = err.message; }
  });
}

export async function render(view, ctx) {
  const [id] = ctx.params;
  if (ctx.page === "draw" && id) return renderDraw(view, id, ctx);
  if (id) return renderPlan(view, id, ctx);
  return renderPlans(view, ctx);
}
