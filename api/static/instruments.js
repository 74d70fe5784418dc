// The flexible instruments (measure 4: 责令限期改正、批评教育、行政约谈、行政告诫) on a finding's page:
// each measure's documents as HTML and PDF (GET /api/v1/measures/{id}/documents/{document}),
// a 行政约谈's meeting (stated when it is recorded) and its minutes form for the team
// (POST /api/v1/measures/{id}/minutes, once), from which the 约谈记录 is printed.
import { api, download, esc } from "./api.js";
import { fmtTime } from "./i18n.js";

/** Each instrument's documents (domain/instruments.INSTRUMENT_DOCUMENTS), with their titles. */
const DOCUMENTS = {
  rectify_order: { rectify_notice: "责令限期改正通知书" },
  education: { education_notice: "批评教育告知书" },
  interview: { interview_notice: "约谈通知书", interview_record: "约谈记录" },
  warning: { warning_notice: "行政告诫书" },
};

/** A document is ready once what it prints exists: the meeting stated, or the minutes recorded. */
function ready(m, doc) {
  if (doc === "interview_notice") return Boolean(m.meeting_at);
  if (doc === "interview_record") return Boolean(m.held_at);
  return true;
}

/** The measure's documents (HTML and PDF each) and, for an interview, its meeting and minutes. */
export function instrumentCell(m) {
  const docs = Object.entries(DOCUMENTS[m.kind] || {}).filter(([doc]) => ready(m, doc));
  const links = docs.map(([doc, title]) => `<span class="measure-doc" data-doc="${doc}">${esc(title)}
      <button type="button" data-measure-doc="${doc}" data-measure-id="${m.id}" data-format="html">HTML</button>
      <button type="button" data-measure-doc="${doc}" data-measure-id="${m.id}" data-format="pdf">PDF</button></span>`).join(" ");
  const meeting = m.kind === "interview" && m.meeting_at
    ? `<p class="muted">约谈时间：${esc(fmtTime(m.meeting_at))} · 地点：${esc(m.meeting_place)} · 被约谈人：${esc(m.meeting_attendee)}</p>` : "";
  const held = m.held_at ? `<p class="interview-held">已约谈（${esc(fmtTime(m.held_at))}）：${esc(m.attendees)}</p>` : "";
  return `${meeting}${held}${links}`;
}

/** The 行政约谈's meeting fields of the measure form (shown when the kind is interview). */
export function meetingFields() {
  return `<div id="interview-facts" hidden><label>约谈时间（北京时间）<input type="datetime-local" name="meeting_at"></label>
      <label>约谈地点<input name="meeting_place" size="30"></label>
      <label>被约谈人（姓名、职务）<input name="meeting_attendee" size="30"></label></div>`;
}

/** A datetime-local value as an instant in bureau time (Asia/Shanghai, UTC+8, no DST). */
function bureauTime(value) {
  return value ? `${value.length === 16 ? `${value}:00` : value}+08:00` : null;
}

/** The meeting fields of the measure form's body (only for an interview). */
export function meetingBody(form) {
  if (form.kind.value !== "interview") return {};
  return { meeting_at: bureauTime(form.meeting_at.value), meeting_place: form.meeting_place.value,
    meeting_attendee: form.meeting_attendee.value };
}

/** The team's minutes forms, one per interview held but not yet recorded. */
export function minutesForms(measures) {
  return measures.filter((m) => m.kind === "interview" && !m.held_at).map((m) => `<form class="minutes-form" data-minutes="${m.id}">
      <h3>约谈记录（${esc(m.doc_no || `#${m.id}`)}）</h3>
      <label>约谈时间（北京时间）<input type="datetime-local" name="held_at"></label>
      <label>被约谈人及参加人员<input name="attendees" size="50"></label>
      <label>约谈情况（至少10个字）<textarea name="minutes" rows="3" cols="60"></textarea></label>
      <button type="submit">记录约谈情况</button><ul class="error" data-minutes-errors="${m.id}"></ul></form>`).join("");
}

/** Wire the page: the interview fields follow the kind, document buttons download, minutes post. */
export function bindInstruments(view, { showError, again }) {
  const mform = view.querySelector("#measure-form");
  if (mform) {
    const facts = () => { view.querySelector("#interview-facts").hidden = mform.kind.value !== "interview"; };
    mform.kind.addEventListener("change", facts);
    facts();
  }
  view.querySelectorAll("button[data-measure-doc]").forEach((b) => b.addEventListener("click", async () => {
    const { measureId, measureDoc, format } = b.dataset;
    const title = Object.values(DOCUMENTS).map((d) => d[measureDoc]).find(Boolean);
    try {
      await download(`/api/v1/measures/${measureId}/documents/${measureDoc}?format=${format}`, `${title}-${measureId}.${format}`);
    } catch (err) { view.querySelector("#finding-error").textContent = err.message; }
  }));
  view.querySelectorAll("form[data-minutes]").forEach((form) => form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api(`/api/v1/measures/${form.dataset.minutes}/minutes`, { method: "POST", body: {
        held_at: bureauTime(form.held_at.value), attendees: form.attendees.value, minutes: form.minutes.value } });
      await again();
    } catch (err) { showError(form.querySelector("ul.error"), err); }
  }));
}
