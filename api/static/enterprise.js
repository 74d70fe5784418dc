// Enterprise page: state and timeline, special operations with permit countdowns and gas tests,
// telemetry trends with thresholds, guidance and its delivery, restart requests, alarms, video.
import { api, esc, session } from "./api.js";
import { alarmRow, wireAlarmActions } from "./alarms.js";
import { drawTrend } from "./chart.js";
import { fmtDuration, fmtTime, t, term } from "./i18n.js";

async function maybe(path, options) {
  try { return await api(path, options); } catch (err) { if (err.status === 404 || err.status === 405) return null; throw err; }
}

const items = (page) => (Array.isArray(page) ? page : (page && page.items) || []);

function stateOf(status) {
  return status.headline || status.state || status.mode || "operating";
}

function opsHtml(ops) {
  if (!ops.length) return `<p class="muted">${esc(t("none"))}</p>`;
  return `<table id="special-ops"><thead><tr><th>${esc(t("special_ops"))}</th><th>${esc(t("permit"))}</th>
    <th>${esc(t("valid_to"))}</th><th>${esc(t("remaining"))}</th><th>${esc(t("gas_test"))}</th><th>${esc(t("guardian"))}</th></tr></thead><tbody>
    ${ops.map((op) => {
      const gas = op.last_gas_test || op.gas_test || null;
      const gasText = gas ? `${fmtTime(gas.ts)} O₂ ${gas.o2_pct ?? "—"}% LEL ${gas.lel_pct ?? "—"}%${gas.ok === false || (gas.problems && gas.problems.length) ? ` <b class="error">✗</b>` : " ✓"}` : `<span class="error">${esc(t("none"))}</span>`;
      return `<tr data-op="${esc(op.op_id)}"><td>${esc(op.label || (op.grade ? `${term(`grade.${op.op_type}`, op.grade)}${term("op_type", op.op_type)}` : term("op_type", op.op_type)))}<div class="muted">${esc(op.location || "")} · ${esc(t(`op_state_${op.state}`))}${op.needs_retest ? ` · <b class="error">${esc(t("retest"))}</b>` : ""}</div></td>
        <td class="mono">${esc(op.permit_no || "")}</td><td>${esc(fmtTime(op.valid_to))}</td>
        <td class="countdown" data-until="${esc(op.valid_to || "")}"></td><td>${gasText}</td><td>${esc(op.guardian || "")}</td></tr>`;
    }).join("")}</tbody></table>`;
}

function tickCountdowns(root) {
  root.querySelectorAll(".countdown[data-until]").forEach((el) => {
    const until = Date.parse(el.dataset.until);
    if (Number.isNaN(until)) { el.textContent = "—"; return; }
    const left = until - Date.now();
    el.textContent = left < 0 ? `${t("overdue")} ${fmtDuration(-left)}` : fmtDuration(left);
    el.classList.toggle("late", left < 0 || left < 30 * 60 * 1000);
  });
}

function eventText(ev) {
  const p = ev.payload || ev;
  const key = `ev_${ev.type}`;
  const bits = [t(key) !== key ? t(key) : ev.type];
  if (p.op_type) bits.push(t(`op_${p.op_type}`));
  if (p.reason) bits.push(p.reason);
  if (p.scope) bits.push(p.scope);
  if (p.permit_no) bits.push(p.permit_no);
  return bits.join(" · ");
}

export async function render(view, { params, live }) {
  const code = params[0];
  const me = session.get();
  const staff = me.role !== "enterprise";
  view.innerHTML = `
    <section class="panel" id="ent-head"></section>
    <div class="grid2">
      <section class="panel"><h3 data-i18n="state"></h3><div id="ent-status"></div></section>
      <section class="panel"><h3 data-i18n="special_ops"></h3><div id="ent-ops"></div></section>
    </div>
    <section class="panel"><h3 data-i18n="alarms"></h3><table id="ent-alarms"><tbody></tbody></table></section>
    <div class="grid2">
      <section class="panel"><h3 data-i18n="telemetry"></h3>
        <div class="filters"><select id="tag-pick" aria-label="tag"></select>
        <select id="range-pick"><option value="1">1h</option><option value="6">6h</option><option value="24">24h</option></select></div>
        <canvas class="chart" id="trend"></canvas></section>
      <section class="panel"><h3 data-i18n="timeline"></h3><ul class="timeline" id="ent-timeline"></ul></section>
    </div>
    <div class="grid2">
      <section class="panel" id="guidance-panel"><h3 data-i18n="guidance"></h3>
        ${staff ? `<form id="guidance-form" class="filters"><textarea name="text" rows="2" cols="40" required maxlength="2000" data-i18n-ph="guidance_text"></textarea>
          <label><input type="checkbox" name="requires_ack" checked> <span data-i18n="requires_ack"></span></label>
          <button class="primary" type="submit" data-i18n="send"></button></form>` : ""}
        <table id="guidance-list"><tbody></tbody></table></section>
      <section class="panel"><h3 data-i18n="restart_requests"></h3><div id="restart-list"></div></section>
    </div>
    <section class="panel" id="video-panel"><h3 data-i18n="video"></h3><div id="video-box"></div></section>`;

  const ent = await api(`/api/v1/enterprises/${encodeURIComponent(code)}`);
  view.querySelector("#ent-head").innerHTML = `<h2>${esc(ent.name)} <span class="dot ${esc(ent.risk_colour)}"></span></h2>
    <dl class="kv"><dt>${esc(t("credit_code"))}</dt><dd class="mono">${esc(ent.credit_code)}</dd>
    <dt>${esc(t("county"))}</dt><dd>${esc(ent.county)}</dd><dt>${esc(t("sector"))}</dt><dd>${esc(term("sector", ent.sector))}</dd>
    <dt>${esc(t("risk_colour"))}</dt><dd>${esc(t(ent.risk_colour))}</dd><dt>${esc(t("credit_class"))}</dt><dd>${esc(ent.credit_class)}</dd>
    <dt>${esc(t("address"))}</dt><dd>${esc(ent.address)}</dd></dl>`;

  async function loadStatus() {
    const st = await maybe(`/api/v1/enterprises/${code}/status`);
    const box = view.querySelector("#ent-status");
    if (!st) { box.innerHTML = `<p class="muted">—</p>`; view.querySelector("#ent-ops").innerHTML = opsHtml([]); return; }
    const state = stateOf(st);
    const maint = st.maintenance || [];
    box.innerHTML = `<p><span class="state ${esc(state)}" id="ent-state">${esc(t(state))}</span>
      ${st.online === false ? `<b class="error">${esc(t("offline"))}</b>` : st.online ? esc(t("online")) : ""}
      <span class="muted">${esc(t("last_seen"))}: ${esc(fmtTime(st.last_seen || st.last_event_at))}</span></p>
      <dl class="kv">${st.mode_since ? `<dt>${esc(t("from"))}</dt><dd>${esc(fmtTime(st.mode_since))}</dd>` : ""}
      ${st.shutdown_reason ? `<dt>${esc(t("reason"))}</dt><dd>${esc(st.shutdown_reason)}</dd>` : ""}
      ${maint.length ? `<dt>${esc(t("maintenance"))}</dt><dd>${maint.map((m) => `${esc(m.maint_id)} (${esc(m.scope)})`).join(", ")}</dd>` : ""}
      ${st.trial_planned_end ? `<dt>${esc(t("trial"))}</dt><dd>${esc(fmtTime(st.trial_planned_end))}</dd>` : ""}</dl>`;
    view.querySelector("#ent-ops").innerHTML = opsHtml(st.special_ops || st.active_special_ops || []);
    tickCountdowns(view);
  }

  async function loadAlarms() {
    const page = await maybe("/api/v1/alarms", { query: { ent: code, limit: 50 } });
    const rows = items(page).filter((a) => a.state !== "closed");
    view.querySelector("#ent-alarms tbody").innerHTML = rows.length ? rows.map((a) => alarmRow(a, { withEnterprise: false })).join("") : `<tr><td class="muted">${esc(t("no_alarms"))}</td></tr>`;
  }

  async function loadTimeline() {
    const page = await maybe(`/api/v1/enterprises/${code}/events`, { query: { limit: 50 } });
    view.querySelector("#ent-timeline").innerHTML = items(page).map((ev) => `<li><time>${esc(fmtTime(ev.ts))}</time>${esc(eventText(ev))}</li>`).join("") || `<li class="muted">${esc(t("none"))}</li>`;
  }

  async function loadGuidance() {
    const page = await maybe(`/api/v1/enterprises/${code}/guidance`, { query: { limit: 20 } });
    view.querySelector("#guidance-list tbody").innerHTML = items(page).map((g) => `<tr data-guidance="${esc(g.id)}">
      <td class="muted">${esc(fmtTime(g.ts || g.created_at))}</td><td>${esc(g.text)}</td>
      <td class="delivery" data-state="${esc(g.state || g.delivery_state)}">${esc(t(g.state || g.delivery_state || "pending"))}</td></tr>`).join("");
  }

  async function loadRestarts() {
    const page = await maybe("/api/v1/restart-requests", { query: { ent: code, limit: 20 } });
    const list = items(page);
    const box = view.querySelector("#restart-list");
    box.innerHTML = list.length ? `<table><tbody>${list.map((r) => `<tr data-restart="${esc(r.id)}"><td>${esc(fmtTime(r.ts || r.requested_at))}</td>
      <td>${esc(fmtTime(r.planned_at))}</td><td>${esc(term("state.restart_requests", r.state || r.decision || ""))}</td>
      <td>${staff ? `<a href="#/restarts/${esc(r.id)}">审核</a>` : ""}</td></tr>`).join("")}</tbody></table>` : `<p class="muted">${esc(t("none"))}</p>`;
  }

  let tags = [];
  async function loadTrend() {
    const tag = view.querySelector("#tag-pick").value;
    const canvas = view.querySelector("#trend");
    if (!tag) { drawTrend(canvas, [], { label: t("telemetry") }); return; }
    const hours = Number(view.querySelector("#range-pick").value);
    const to = new Date();
    const from = new Date(to - hours * 3600 * 1000);
    const body = await maybe(`/api/v1/enterprises/${code}/telemetry`, { query: { tag, from: from.toISOString(), to: to.toISOString(), bucket: hours > 6 ? "5m" : "1m" } });
    const pts = items(body).map((p) => ({ t: p.ts || p.bucket, v: p.value ?? p.avg ?? p.avg_value, lo: p.min ?? p.min_value, hi: p.max ?? p.max_value }));
    const meta = tags.find((x) => x.tag === tag) || {};
    const th = meta.thresholds || meta;
    drawTrend(canvas, pts, { thresholds: { hh: th.hh, h: th.h, l: th.l, ll: th.ll }, unit: meta.unit || "", label: tag });
  }
  async function loadTags() {
    tags = items(await maybe(`/api/v1/enterprises/${code}/tags`));
    view.querySelector("#tag-pick").innerHTML = tags.map((x) => `<option value="${esc(x.tag)}">${esc(x.tag)} ${esc(x.description || x.kind || "")}</option>`).join("");
    await loadTrend();
  }
  view.querySelector("#tag-pick").addEventListener("change", loadTrend);
  view.querySelector("#range-pick").addEventListener("change", loadTrend);

  const form = view.querySelector("#guidance-form");
  if (form) form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    try {
      await api(`/api/v1/enterprises/${code}/guidance`, { method: "POST", body: { text: data.get("text"), requires_ack: data.get("requires_ack") === "on" } });
      form.reset();
      loadGuidance();
    } catch (err) { window.swToast(`${t("error")}: ${err.message}`); }
  });
  wireAlarmActions(view.querySelector("#ent-alarms"), loadAlarms);

  await Promise.all([loadStatus(), loadAlarms(), loadTimeline(), loadGuidance(), loadRestarts(), loadTags()]
    .map((p) => p.catch((err) => console.warn(err))));

  let panel = null;
  try {
    const video = await import("./video.js");
    panel = video.mountVideoPanel(view.querySelector("#video-box"), { enterprise: code, purpose: "guidance", getToken: () => (session.get() || {}).token });
  } catch (err) { view.querySelector("#video-panel").hidden = true; }

  const reload = { status: loadStatus, event: () => { loadTimeline(); loadStatus(); }, alarm: loadAlarms,
    guidance: loadGuidance, restart_request: () => { loadRestarts(); loadStatus(); }, presence: loadStatus,
    telemetry: loadTrend, directory: () => {} };
  const timers = {};
  const off = live.on((msg) => {
    if (msg.enterprise_id !== code && msg.type !== "reset") return;
    const fn = reload[msg.kind] || loadStatus;
    clearTimeout(timers[msg.kind]);
    timers[msg.kind] = setTimeout(() => fn().catch(() => {}), 100);
  });
  const ticker = setInterval(() => tickCountdowns(view), 1000);
  return () => { off(); clearInterval(ticker); Object.values(timers).forEach(clearTimeout); if (panel) panel.destroy(); };
}
