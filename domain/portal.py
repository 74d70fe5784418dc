"""The enterprise portal (企业端): what a refused report needs fixed, in the reader's words."""

from __future__ import annotations

import re

from domain.i18n import Message, msg

#: Reject codes the ingest gives (monitor.topics.RejectCode values) with a portal text each.
REJECT_CODES = (
    "topic_invalid",
    "topic_unknown",
    "credit_code_invalid",
    "enterprise_unknown",
    "payload_too_large",
    "json_invalid",
    "schema_invalid",
    "timestamp_invalid",
    "timestamp_future",
    "timestamp_out_of_range",
    "value_out_of_range",
    "event_id_reused",
    "maintenance_open_limit",
    "ref_unknown",
    "storage_refused",
)
#: Report fields the portal's forms fill in, each with a `term.report_field.<name>` label.
FIELDS = (
    "event_id",
    "ts",
    "type",
    "scope",
    "units",
    "reason",
    "planned_resume",
    "planned_at",
    "self_check",
    "item",
    "ok",
    "maint_id",
    "planned_end",
    "op_id",
    "op_type",
    "grade",
    "permit_no",
    "valid_from",
    "valid_to",
    "location",
    "guardian",
    "guardian_cert",
    "gas_test",
    "o2_pct",
    "lel_pct",
    "toxic_ppm",
    "gas",
    "analyst",
    "trial_id",
    "date",
    "total",
    "running",
    "stopped",
    "risk_level",
    "committed_by",
    "committed_at",
    "ref",
)
_LOC_MSG = re.compile(r"(?:^|; )([A-Za-z0-9_.]+): (.*?)(?=; [A-Za-z0-9_.]+: |$)")
_WORD = re.compile(r"[a-z_0-9]+")


def fields_of(reason: str) -> list[str]:
    """The fields a schema or timestamp refusal names (`shutdown.reason: …` → reason); a
    location of one unknown segment is the event type itself (a rule across fields)."""
    out: list[str] = []
    for loc, said in _LOC_MSG.findall(reason):
        parts = [p for p in loc.split(".") if not p.isdigit()]
        if len(parts) == 1 and parts[0] not in FIELDS:
            # a rule across fields: the fields its message names ("scope 'unit' needs units")
            names = [w for w in _WORD.findall(said) if w in FIELDS]
        else:
            names = parts[-1:]
        out.extend(n for n in names if n not in out)
    return out


def explain(code: str, reason: str | None) -> Message:
    """The portal's text for a refused report: what to fix, with the fields it concerns."""
    key = code if code in REJECT_CODES else "storage_refused"
    names = fields_of(reason or "")
    labels = [
        msg(f"term.report_field.{n}") if n in FIELDS else msg("portal.field", name=n) for n in names
    ] or [msg("portal.field_unnamed")]
    return msg("portal.refused", why=msg(f"portal.reject.{key}", fields=labels))
