"""English texts of the flexible instruments' documents (measure 4) and the
overdue-rectification alarm (issue 15)."""

from __future__ import annotations

INSTRUMENTS: dict[str, str] = {
    "alarm.rectification_overdue": "{name}: order {doc_no} passed its deadline {deadline:date} without a follow-up inspection confirming the rectification",
    "alarm.rectification_overdue.verified": "The rectification was confirmed by a follow-up inspection; closed by the system",
    "alarm.rectification_overdue.extended": "The deadline was extended to {deadline:date}; closed by the system",
}
