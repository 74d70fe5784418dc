"""English texts of the flexible instruments' documents (measure 4) and the
overdue-rectification alarm (issue 15)."""

from __future__ import annotations

INSTRUMENTS: dict[str, str] = {
    "alarm.rectification_overdue": "{name}: order {doc_no} passed its deadline {deadline:date} without a follow-up inspection confirming the rectification",
    "alarm.rectification_overdue.verified": "The rectification was confirmed by a follow-up inspection; closed by the system",
    "alarm.rectification_overdue.extended": "The deadline was extended to {deadline:date}; closed by the system",
    "measure.meeting_only_interview": "Meeting time, place and attendee apply to an interview only",
    "measure.meeting_at_required": "An interview needs its meeting time (not in the past) for its notice",
    "measure.meeting_place_required": "An interview needs its meeting place (at least {min:num} characters)",
    "measure.meeting_attendee_required": "An interview needs the person summoned (e.g. the enterprise's principal, name and post)",
    "measure.minutes_refused": "Interview record not accepted: {problems:list}",
    "measure.held_at_future": "The interview's time cannot be in the future (record it once held)",
    "measure.attendees_required": "Name the person interviewed and who attended for the enterprise",
    "measure.minutes_too_short": "The interview record needs at least {min:num} characters",
    "measure.minutes_only_interview": "Only an interview has an interview record",
    "measure.minutes_recorded": "The record of interview {measure_id} is already kept and cannot be rewritten",
    "document.not_for_measure": "Measure {measure_id} ({kind:term.measure}) has no document {document}",
    "document.no_minutes": "The interview has not been recorded yet: no interview record",
    "document.no_meeting": "The interview states no meeting time, place and attendee: no interview notice",
    "document.team_only": "Only the inspection team's officers or a supervisor may read this document",
}
