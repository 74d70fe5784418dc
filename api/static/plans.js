// Plans and draws (filled in once the plan and draw endpoints are available).
import { api, esc } from "./api.js";
import { t } from "./i18n.js";

export async function render(view) {
  let plans = [];
  try { plans = (await api("/api/v1/plans")).items || []; } catch { /* not available yet */ }
  view.innerHTML = `<section class="panel"><h3>${esc(t("plans"))}</h3>
    <ul>${plans.map((p) => `<li>${esc(p.name || p.id)}</li>`).join("") || `<li class="muted">${esc(t("none"))}</li>`}</ul></section>`;
}
