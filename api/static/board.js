// Status board: every enterprise with filters and counts; rows refresh live, no reload.
import { api, esc } from "./api.js";
import { OP_TYPES, fmtTime, t, term } from "./i18n.js";

const SHUT = new Set(["shutdown", "restart_requested", "restart_approved"]);
const MAX_ROWS = 300;

function toObjects(snapshot) {
  const cols = snapshot.columns;
  return snapshot.rows.map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i]])));
}

export function countsOf(rows) {
  const c = { total: rows.length, shutdown: 0, maintenance: 0, trial: 0, offline: 0, alarms: 0, ops: {} };
  for (const type of OP_TYPES) c.ops[type] = 0;
  for (const r of rows) {
    if (SHUT.has(r.state)) c.shutdown++;
    if (r.maintenance) c.maintenance++;
    if (r.trial || r.state === "trial_production") c.trial++;
    if (r.online === false) c.offline++;
    if (r.alarms) c.alarms++;
    for (const [type, n] of Object.entries(r.special_ops || {})) c.ops[type] = (c.ops[type] || 0) + n;
  }
  return c;
}

function option(value, label, selected) {
  return `<option value="${esc(value)}"${selected === value ? " selected" : ""}>${esc(label)}</option>`;
}

export async function render(view, { live }) {
  const filters = { county: "", sector: "", risk: "", state: "", q: "" };
  let rows = [];
  let byCode = new Map();
  const flashed = new Set();

  view.innerHTML = `
    <section class="counts" id="counts"></section>
    <section class="panel">
      <div class="filters" id="filters"></div>
      <div class="tiles" id="tiles"></div>
      <div class="board-table"><table id="board"><thead><tr>
        <th data-i18n="name"></th><th data-i18n="county"></th><th data-i18n="sector"></th>
        <th data-i18n="risk_colour"></th><th data-i18n="state"></th><th data-i18n="special_ops"></th>
        <th data-i18n="active_alarms"></th><th data-i18n="online"></th><th data-i18n="last_seen"></th>
      </tr></thead><tbody></tbody></table>
      <p class="muted" id="shown"></p></div>
    </section>`;

  function matches(r) {
    if (filters.county && r.county !== filters.county) return false;
    if (filters.sector && r.sector !== filters.sector) return false;
    if (filters.risk && r.risk_colour !== filters.risk) return false;
    if (filters.state) {
      if (filters.state === "shutdown" && !SHUT.has(r.state)) return false;
      if (filters.state === "maintenance" && !r.maintenance) return false;
      if (filters.state === "special_ops" && !Object.keys(r.special_ops || {}).length) return false;
      if (filters.state === "trial" && !(r.trial || r.state === "trial_production")) return false;
      if (filters.state === "offline" && r.online !== false) return false;
      if (filters.state === "alarms" && !r.alarms) return false;
      if (filters.state === "operating" && r.state !== "operating") return false;
    }
    if (filters.q && !(`${r.name}${r.credit_code}`.includes(filters.q))) return false;
    return true;
  }

  function renderFilters(facets) {
    const el = view.querySelector("#filters");
    const counties = Object.keys(facets.county || {});
    const sectors = Object.keys(facets.sector || {});
    el.innerHTML = `
      <select name="county" aria-label="${esc(t("county"))}">${option("", `${t("county")}: ${t("all")}`)}${counties.map((c) => option(c, c)).join("")}</select>
      <select name="sector" aria-label="${esc(t("sector"))}">${option("", `${t("sector")}: ${t("all")}`)}${sectors.map((s) => option(s, term("sector", s))).join("")}</select>
      <select name="risk" aria-label="${esc(t("risk_colour"))}">${option("", `${t("risk_colour")}: ${t("all")}`)}${["red", "orange", "yellow", "blue"].map((c) => option(c, t(c))).join("")}</select>
      <select name="state" aria-label="${esc(t("state"))}">${option("", `${t("state")}: ${t("all")}`)}${["operating", "shutdown", "maintenance", "special_ops", "trial", "offline", "alarms"].map((s) => option(s, t(s === "alarms" ? "active_alarms" : s))).join("")}</select>
      <input name="q" type="search" data-i18n-ph="search" placeholder="${esc(t("search"))}">`;
    el.addEventListener("input", (ev) => {
      filters[ev.target.name] = ev.target.value.trim();
      paint();
    });
  }

  function renderCounts(list) {
    const c = countsOf(list);
    const box = (key, n, alert) => `<div class="count${alert && n ? " alert" : ""}" data-count="${key}"><b>${n}</b><span>${esc(t(key))}</span></div>`;
    view.querySelector("#counts").innerHTML = [
      box("enterprises", c.total), box("active_alarms", c.alarms, true), box("shutdown", c.shutdown),
      box("maintenance", c.maintenance), box("trial", c.trial), box("offline", c.offline, true),
      ...OP_TYPES.map((type) => box(`op_${type}`, c.ops[type] || 0)),
    ].join("");
  }

  function opsText(ops) {
    const parts = Object.entries(ops || {}).map(([type, n]) => `${t(`op_${type}`)}×${n}`);
    return parts.length ? parts.join(" ") : "";
  }

  function rowHtml(r) {
    const sev = r.alarm_severity ? `<span class="sev ${esc(r.alarm_severity)}">${r.alarms}</span>` : (r.alarms || "");
    const online = r.online === null || r.online === undefined ? "—" : (r.online ? t("online") : `<span class="error">${t("offline")}</span>`);
    return `<tr data-code="${esc(r.credit_code)}" class="${flashed.has(r.credit_code) ? "flash" : ""}">
      <td><a href="#/ent/${esc(r.credit_code)}">${esc(r.name)}</a></td><td>${esc(r.county)}</td>
      <td>${esc(term("sector", r.sector))}</td><td><span class="dot ${esc(r.risk_colour)}"></span> ${esc(t(r.risk_colour))}</td>
      <td><span class="state ${esc(r.state)}">${esc(t(r.state))}</span>${r.maintenance ? ` <span class="state maintenance_whole">${esc(t("maintenance"))}</span>` : ""}</td>
      <td>${esc(opsText(r.special_ops))}</td><td>${sev}</td><td>${online}</td><td class="muted">${esc(fmtTime(r.last_seen))}</td></tr>`;
  }

  function tileHtml(r) {
    return `<a class="tile r-${esc(r.risk_colour)}${r.alarms ? " alarmed" : ""}" href="#/ent/${esc(r.credit_code)}" data-code="${esc(r.credit_code)}">
      <span class="n">${esc(r.name)}</span><span class="state ${esc(r.state)}">${esc(t(r.state))}</span>
      ${r.alarms ? `<span class="sev ${esc(r.alarm_severity || "red")}">${r.alarms}</span>` : ""}
      ${r.online === false ? `<span class="error">${t("offline")}</span>` : ""}</a>`;
  }

  function rank(r) {
    return (r.alarms ? 1000 : 0) + (r.online === false ? 100 : 0) + (r.state !== "operating" ? 10 : 0)
      + (Object.keys(r.special_ops || {}).length ? 5 : 0);
  }

  function paint() {
    const list = rows.filter(matches);
    renderCounts(list);
    const sorted = [...list].sort((a, b) => rank(b) - rank(a) || a.credit_code.localeCompare(b.credit_code));
    const shown = sorted.slice(0, MAX_ROWS);
    view.querySelector("#board tbody").innerHTML = shown.map(rowHtml).join("");
    view.querySelector("#tiles").innerHTML = sorted.slice(0, 600).map(tileHtml).join("");
    view.querySelector("#shown").textContent = `${t("total")} ${list.length} / ${rows.length}`;
    flashed.clear();
  }

  async function load() {
    const snap = await api("/api/v1/dashboard/board");
    rows = toObjects(snap);
    byCode = new Map(rows.map((r) => [r.credit_code, r]));
    renderFilters(snap.facets || {});
    paint();
    return snap.live_id;
  }

  // Live: gather changed enterprises for a moment, then fetch just their rows.
  const pending = new Set();
  let timer = null;
  async function flush() {
    timer = null;
    const codes = [...pending];
    pending.clear();
    if (!codes.length) return;
    let fresh;
    try {
      fresh = toObjects(await api("/api/v1/dashboard/board", { query: { codes: codes.slice(0, 200).join(",") } }));
    } catch { return; }
    for (const r of fresh) {
      if (!byCode.has(r.credit_code)) rows.push(r);
      else Object.assign(byCode.get(r.credit_code), r);
      byCode.set(r.credit_code, byCode.get(r.credit_code) || r);
      flashed.add(r.credit_code);
    }
    paint();
  }

  await load();
  const off = live.on((msg) => {
    if (msg.type === "reset" || (msg.kind === "directory" && !msg.enterprise_id)) { load(); return; }
    if (!msg.enterprise_id) return;
    pending.add(msg.enterprise_id);
    if (!timer) timer = setTimeout(flush, 250);
  });
  return () => { off(); clearTimeout(timer); };
}
