// Public pages (no sign-in): published draws with their verification material, and results.
import { api, esc } from "./api.js";
import { drawDetailHtml } from "./plans.js";
import { fmtTime, getLang, loadMessages, setLang, t, term, translateDom } from "./i18n.js";

const view = document.getElementById("view");

async function draws() {
  const page = await api("/public/v1/draws", { query: { limit: 100 } });
  view.innerHTML = `<section class="panel"><h2>${esc(t("draws"))}</h2>
    <p class="muted">每次抽取前公布承诺值（密钥的 SHA-256），抽取后公布密钥、公开随机数与完整记录；任何人可用验证脚本逐字节复核。</p>
    <table id="public-draws"><thead><tr><th>#</th><th>${esc(t("plan"))}</th><th>${esc(t("period"))}</th><th>${esc(t("state"))}</th>
    <th>${esc(t("commitment"))}</th><th>${esc(t("when"))}</th></tr></thead><tbody>
    ${page.items.map((d) => `<tr><td><a href="#/draws/${d.id}">${d.id}</a></td><td class="mono">${esc(d.plan_id)}</td><td class="mono">${esc(d.period)}</td>
      <td>${esc(d.state === "drawn" ? t("published") : term("state.draws", d.state))}</td><td class="mono">${esc(d.commitment.slice(0, 24))}…</td>
      <td>${esc(fmtTime(d.drawn_at || d.frozen_at))}</td></tr>`).join("") || `<tr><td colspan="6" class="muted">${esc(t("none"))}</td></tr>`}
    </tbody></table></section>`;
}

async function draw(id) {
  const d = await api(`/public/v1/draws/${id}`);
  view.innerHTML = drawDetailHtml(d, { staff: false });
}

async function results() {
  const [page, penalties] = await Promise.all([api("/public/v1/results", { query: { limit: 100 } }),
    api("/public/v1/penalties", { query: { limit: 100 } })]);
  view.innerHTML = `<section class="panel"><h2>${esc(t("results"))}</h2><table id="public-results"><thead><tr>
      <th>${esc(t("enterprises"))}</th><th>${esc(t("county"))}</th><th>${esc(t("plan"))}</th><th>${esc(t("when"))}</th>
      <th>${esc(t("findings"))}</th><th>首违不罚</th><th>责令整改</th><th>立案</th><th>已整改</th></tr></thead><tbody>
      ${page.items.map((r) => `<tr><td>${esc(r.enterprise_name)}<div class="mono muted">${esc(r.credit_code)}</div></td><td>${esc(r.county)}</td>
        <td class="mono">${esc(r.plan_id || r.source)} ${esc(r.period || "")}</td><td>${esc(r.inspected_on || "")}</td><td>${r.findings}</td>
        <td>${r.guidance}</td><td>${r.rectify}</td><td>${r.penalty_procedure}</td><td>${r.rectified}</td></tr>`).join("") || `<tr><td colspan="9" class="muted">${esc(t("none"))}</td></tr>`}
      </tbody></table></section>
    <section class="panel"><h3>行政处罚信息公示</h3><table><tbody>
      ${penalties.items.map((p) => `<tr><td>${esc(p.enterprise_name)}</td><td class="mono">${esc(p.decision_no)}</td><td>${esc(p.summary)}</td>
        <td>${esc(p.decided_on)}</td><td class="muted">公示至 ${esc(p.publish_until)}</td></tr>`).join("") || `<tr><td class="muted">${esc(t("none"))}</td></tr>`}
    </tbody></table></section>`;
}

async function route() {
  const [, name = "draws", id] = (location.hash || "#/draws").slice(1).split("/");
  document.querySelectorAll("#pub-nav a").forEach((a) => a.classList.toggle("on", a.dataset.route === name));
  try {
    await loadMessages();
    if (name === "results") await results();
    else if (id) await draw(id);
    else await draws();
  } catch (err) {
    view.innerHTML = `<p class="error">${esc(t("error"))}: ${esc(err.message)}</p>`;
  }
  translateDom();
}

document.getElementById("lang").addEventListener("click", () => {
  setLang(getLang() === "zh-CN" ? "en" : "zh-CN");
  route();
});
window.addEventListener("hashchange", route);
fetch("/public/v1/region").then((r) => (r.ok ? r.json() : null)).then((r) => {
  if (r) document.getElementById("bureau").textContent = r.bureau;
}).catch(() => {});
setLang(getLang());
route();
