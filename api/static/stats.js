// Supervisors' enforcement statistics (执法统计): by county and month, a bar chart of outcomes,
// CSV/XLSX export and the overrides of the advisor.
import { api, esc } from "./api.js";

const COLS = { county: "区县", month: "月份", planned: "计划", done: "完成", findings: "检查发现",
  major_hazards: "重大隐患", no_penalty: "不予处罚", first_violation: "首违不罚", lenient: "从轻/减轻",
  cases: "立案", overrides: "未采纳建议", lapsed: "失效", orders: "整改指令", on_time: "按期整改", overdue: "逾期" };
const RECS = { no_penalty: "不予处罚", first_violation: "首违不罚", lenient: "从轻/减轻", case: "立案" };
const BARS = { no_penalty: "#3e9b4f", first_violation: "#5b8def", lenient: "#f5c33b", cases: "#e5484d" };

function drawBars(canvas, rows) {
  const g = canvas.getContext("2d");
  const w = canvas.width = canvas.clientWidth || 600;
  const h = canvas.height = 200;
  g.clearRect(0, 0, w, h);
  const months = [...new Set(rows.map((r) => r.month))];
  const totals = months.map((m) => Object.fromEntries(Object.keys(BARS).map((k) => [k, rows.filter((r) => r.month === m).reduce((a, r) => a + r[k], 0)])));
  const max = Math.max(1, ...totals.flatMap((t) => Object.values(t)));
  const slot = w / Math.max(1, months.length);
  const bw = slot / (Object.keys(BARS).length + 1);
  g.font = "12px sans-serif";
  months.forEach((m, i) => {
    Object.entries(BARS).forEach(([k, colour], j) => {
      const v = totals[i][k];
      const bh = (h - 30) * (v / max);
      g.fillStyle = colour;
      g.fillRect(i * slot + j * bw + 4, h - 20 - bh, bw - 2, bh);
    });
    g.fillStyle = "#8ea0b5";
    g.fillText(m, i * slot + 4, h - 5);
  });
}

export async function render(view) {
  const end = new Date();
  const start = new Date(end.getTime() - 365 * 86400000);
  const query = { start: start.toISOString().slice(0, 10), end: end.toISOString().slice(0, 10) };
  const [data, overrides] = await Promise.all([
    api("/api/v1/enforcement/statistics", { query }), api("/api/v1/enforcement/overrides")]);
  view.innerHTML = `<section class="panel"><h2>执法统计（${esc(query.start)} ~ ${esc(query.end)}）</h2>
    <canvas id="stats-chart" style="width:100%;height:200px"></canvas>
    <p class="muted">${Object.entries(BARS).map(([k, c]) => `<span style="color:${c}">■</span> ${esc(COLS[k])}`).join(" ")}</p>
    <div class="filters"><button type="button" data-export="csv">导出 CSV</button><button type="button" data-export="xlsx">导出 XLSX</button></div>
    <table id="stats-table"><thead><tr>${Object.values(COLS).map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead>
    <tbody>${data.by_county_month.map((r) => `<tr>${Object.keys(COLS).map((k) => `<td>${esc(String(r[k]))}</td>`).join("")}</tr>`).join("")}</tbody></table></section>
    <section class="panel"><h3>未采纳处理建议的决定</h3><table id="overrides"><tbody>${overrides.map((f) => `<tr>
      <td><a href="#/finding/${f.id}">#${f.id}</a> ${esc(f.item_code)}</td><td>建议：${esc(RECS[f.recommendation] || f.recommendation)}</td><td>决定：${esc(RECS[f.decision] || f.decision)}</td>
      <td>${esc(f.decision_reason || "")}</td><td>${esc(f.decided_by || "")}</td></tr>`).join("") || `<tr><td class="muted">无</td></tr>`}</tbody></table></section>`;
  drawBars(view.querySelector("#stats-chart"), data.by_county_month);
  view.querySelectorAll("[data-export]").forEach((b) => b.addEventListener("click", async () => {
    const res = await api("/api/v1/enforcement/statistics", { query: { ...query, format: b.dataset.export }, raw: true });
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement("a");
    a.href = url; a.download = `执法统计.${b.dataset.export}`; document.body.append(a); a.click(); a.remove();
  }));
}
