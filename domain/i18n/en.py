"""English catalogue: the same codes as zh_cn.py (zh-CN is the fallback for a missing key)."""

from __future__ import annotations

from domain.i18n.en_workbench import ADVISOR, WORKBENCH

ALARMS: dict[str, str] = {
    "alarm.superseded_by_late_event": "Superseded by a late event: replayed in event-time order, the alarm does not hold; closed by the system",
    "alarm.resume_without_approval.no_request": "Restart reported without a restart request",
    "alarm.resume_without_approval.pending": "Restart reported before the request was approved",
    "alarm.transition_not_allowed.resume_request": (
        "Restart request while {mode:term.mode}: there is no shutdown to resume from"
    ),
    "alarm.transition_not_allowed.resume": (
        "Restart while {mode:term.mode}: the enterprise was not shut down"
    ),
    "alarm.transition_not_allowed.trial_end": (
        "End of trial {trial_id} reported while no trial production is open"
    ),
    "alarm.stored_data_invalid": (
        "Periodic check {job} could not process this enterprise's stored data and skipped it"
        " (every other enterprise was checked); verify and repair: {error}"
    ),
    "alarm.maintenance_unknown": (
        "End of maintenance {maint_id} reported; its start was never reported"
    ),
    "alarm.trial_period_invalid.no_end": "Trial production reported without a planned end",
    "alarm.trial_period_invalid.days": (
        "Trial production planned for {days:num} days; allowed {min_days:num}–{max_days:num} days"
    ),
    "alarm.trial_overrun.ended": "Trial production ended after its planned end ({planned_end:dt})",
    "alarm.trial_overrun.open": (
        "Trial production is {days:num} days past its planned end and still open"
    ),
    "alarm.commitment_missing": "No daily risk commitment for {day:date} by {due:dt}",
    "alarm.commitment_mismatch": (
        "The daily risk commitment of {day:date} does not match what was reported: {items:list}"
    ),
    "alarm.commitment_mismatch.item": (
        "{item:term.commitment_item}: committed {committed:val}, reported {actual:val}"
    ),
    "alarm.commitment_mismatch.op_item": "{op}: committed {committed:val}, reported {actual:val}",
    "alarm.telemetry_limit": "Tag {tag} at {value:num}: {level:term.level} (limit {limit:num})",
    "alarm.telemetry_stale.since": (
        "Tag {tag} has not reported since {last:dt} (expected every {seconds:num} s)"
    ),
    "alarm.telemetry_stale.never": "Tag {tag} has never reported (expected every {seconds:num} s)",
    "alarm.offline.silent": "No message from the site for {seconds:num} s",
    "alarm.offline.never": "The site has never sent anything",
    "alarm.operation_unknown": (
        "{event:term.event} for operation {op_id}, which was never reported as started"
    ),
    "alarm.gas_out_of_limits": "{op} {op_id}: gas analysis out of limits: {problems:list}",
    "alarm.grade_missing": (
        "{op_type:term.op_type} {op_id} reported without a grade; treated as {op}"
    ),
    "alarm.permit_too_long": (
        "Work permit {permit_no} valid for {hours:num} h; {op} allows at most {limit:num} h"
    ),
    "alarm.permit_not_yet_valid": (
        "Work started before permit {permit_no} is valid ({valid_from:dt})"
    ),
    "alarm.guardian_missing": "{op} {op_id} has no guardian",
    "alarm.gas_test_missing": (
        "{op} {op_id} started without an acceptable gas analysis in the {minutes:num} min "
        "before (same day)"
    ),
    "alarm.retest_missing": (
        "{op} {op_id} resumed after {gap:num} min without an acceptable analysis in the "
        "{window:num} min before (needed after {limit:num} min)"
    ),
    "alarm.permit_expired.ended": (
        "Work permit {permit_no} expired at {valid_to:dt} while work went on"
    ),
    "alarm.permit_expired.open": (
        "Work permit {permit_no} of {op} {op_id} expired at {valid_to:dt}; the operation is open"
    ),
    "alarm.gas_test_stale": (
        "{op} {op_id}: no gas analysis for {minutes:num} min (at most {max:num} min)"
    ),
    "gas.o2": "O₂ {value:num}% outside {min:num}–{max:num}%",
    "gas.lel": "Combustibles {value:num}% LEL above {max:num}% LEL",
    "gas.vol": "Combustibles {value:num}% vol above {max:num}% vol (LEL {lel:num}% vol)",
    "gas.toxic": "{name} {value:num} ppm above {max:num} ppm",
    "alarm.retest_missing.new_day": (
        "{op} {op_id} resumed on a new day without an acceptable analysis of that day in the "
        "{window:num} min before"
    ),
    "alarm.gas_test_stale.daily": "{op} {op_id}: no acceptable gas analysis on {day:date}",
    "alarm.permit_too_long.upgraded": (
        "Work permit {permit_no} valid for {hours:num} h; {op} (one grade up: "
        "{reason:term.upgrade}) allows at most {limit:num} h"
    ),
    "alarm.guardian_missing.cert": "The guardian {guardian} of {op} {op_id} has no certificate number",
    "alarm.guardian_conflict": (
        "Guardian {guardian} (certificate {cert}) watches {op} {op_id} at {location} and work "
        "elsewhere: {others}"
    ),
    "alarm.guardian_conflict.no_cert": (
        "Guardian {guardian} watches {op} {op_id} at {location} and work elsewhere: {others}"
    ),
    "alarm.video_missing": (
        "{op} {op_id} (permit {permit_no}) has no video of the whole work: no camera declared "
        "and no live video session"
    ),
    "alarm.temp_power_outlasts.unknown": (
        "Temporary power {op_id} serves {serves}, which was never reported or has ended"
    ),
    "alarm.temp_power_outlasts.ended": (
        "Temporary power {op_id} is still open after the work it serves ({serves}) ended"
    ),
    "alarm.temp_power_outlasts.valid_to": (
        "Temporary power {op_id} permit {permit_no} is valid to {valid_to:dt}, after the "
        "{op} permit {parent_permit} it serves (valid to {parent_valid_to:dt})"
    ),
    "gas.o2.enriched": "O₂ {value:num}% outside {min:num}–{max:num}% (oxygen-enriched)",
    "gas.combustible": "Combustibles",
    "gas.lel.unknown": (
        "{gas} {value:num}% LEL names no known gas or LEL; it cannot be judged by volume"
    ),
    "gas.lel.converted": (
        "{gas} {value:num}% LEL (LEL {lel:num}%) is {vol:num}% vol, above {max:num}% vol"
    ),
    "gas.vol.named": "{gas} {value:num}% vol above {max:num}% vol (LEL {lel:num}% vol)",
    "gas.vol.no_lel": "{gas} {value:num}% vol above {max:num}% vol (no LEL reported)",
    "gas.toxic.limit": "{name} {value:num} ppm above the {basis} of {max:num} ppm",
    "gas.toxic.unknown": "Toxic gas {name} has no configured limit; it cannot be judged",
    "op.label": "{op_type:term.op_type}",
    "op.graded": "{grade} {op_type:term.op_type}",
}

TERMS: dict[str, str] = {
    "term.draw_reason.deregistered": "deregistered",
    "term.draw_reason.out_of_scope_county": "county outside the plan",
    "term.draw_reason.out_of_scope_sector": "sector outside the plan",
    "term.draw_reason.excluded_by_plan": "excluded by the plan",
    "term.draw_reason.not_listed": "not on the fixed list",
    "term.draw_reason.shutdown": "shut down",
    "term.draw_reason.yearly_cap_reached": "yearly inspection cap reached",
    "term.draw_reason.cooldown": "inspected too recently",
    "term.draw_reason.no_stratum": "in no stratum",
    "term.draw_reason.inactive": "officer inactive",
    "term.draw_reason.expert_not_required": "no experts needed",
    "term.draw_reason.department_not_in_plan": "department not in the plan",
    "term.draw_reason.certificate_missing": "no enforcement certificate",
    "term.draw_reason.certificate_validity_unknown": "certificate validity unknown",
    "term.draw_reason.certificate_expires": "certificate expires within the period",
    "term.draw_reason.certificate_not_yet_valid": "certificate not yet valid",
    "term.draw_reason.workload_cap_reached": "workload cap reached",
    "term.draw_reason.pool_empty": "pool empty",
    "term.draw_reason.no_allowed_officer": "no officer allowed after recusals",
    "term.draw_reason.too_few_allowed_officers": "too few officers allowed after recusals",
    "term.draw_reason.officers_exhausted": "all allowed officers assigned",
    "term.state.alarms.active": "active",
    "term.state.alarms.acknowledged": "acknowledged",
    "term.state.alarms.closed": "closed",
    "term.state.downlinks.pending": "pending",
    "term.state.downlinks.sent": "sent",
    "term.state.downlinks.delivered": "delivered",
    "term.state.downlinks.received": "received",
    "term.state.downlinks.acknowledged": "acknowledged",
    "term.state.downlinks.expired": "expired",
    "term.state.draws.frozen": "frozen",
    "term.state.draws.drawn": "drawn",
    "term.state.draws.complete": "complete",
    "term.state.draws.incomplete": "incomplete",
    "term.state.inspections.planned": "planned",
    "term.state.inspections.done": "done",
    "term.state.inspections.cancelled": "cancelled",
    "term.state.restart_requests.pending": "pending",
    "term.state.restart_requests.approved": "approved",
    "term.state.restart_requests.rejected": "rejected",
    "term.state.restart_requests.superseded": "superseded",
    "term.state.special_operations.active": "active",
    "term.state.special_operations.paused": "paused",
    "term.state.special_operations.ended": "ended",
    "term.state.video_sessions.requested": "requested",
    "term.state.video_sessions.connecting": "connecting",
    "term.state.video_sessions.live": "live",
    "term.state.video_sessions.ended": "ended",
    "term.state.video_sessions.failed": "failed",
    "term.op_type.hot_work": "hot work",
    "term.op_type.confined_space": "confined-space work",
    "term.op_type.blind_plate": "blind-plate work",
    "term.op_type.work_at_height": "work at height",
    "term.op_type.lifting": "lifting",
    "term.op_type.temp_power": "temporary power",
    "term.op_type.excavation": "excavation",
    "term.op_type.road_break": "road breaking",
    "term.grade.hot_work.special": "special-grade",
    "term.grade.hot_work.1": "grade-1",
    "term.grade.hot_work.2": "grade-2",
    "term.grade.work_at_height.I": "grade-I",
    "term.grade.work_at_height.II": "grade-II",
    "term.grade.work_at_height.III": "grade-III",
    "term.grade.work_at_height.IV": "grade-IV",
    "term.grade.lifting.1": "grade-1",
    "term.grade.lifting.2": "grade-2",
    "term.grade.lifting.3": "grade-3",
    "term.upgrade.holiday": "holiday",
    "term.upgrade.rest_day": "rest day",
    "term.upgrade.night": "night",
    "term.oel_basis.MAC": "MAC",
    "term.oel_basis.PC-TWA": "PC-TWA",
    "term.mode.operating": "operating",
    "term.mode.shutdown": "shut down",
    "term.mode.restart_requested": "restart requested",
    "term.mode.restart_approved": "restart approved",
    "term.mode.trial_production": "trial production",
    "term.level.H": "above the high limit",
    "term.level.HH": "above the high-high limit",
    "term.level.L": "below the low limit",
    "term.level.LL": "below the low-low limit",
    "term.level.normal": "normal",
    "term.event.shutdown": "Shutdown",
    "term.event.resume_request": "Restart request",
    "term.event.resume": "Restart",
    "term.event.maintenance_start": "Maintenance start",
    "term.event.maintenance_end": "Maintenance end",
    "term.event.special_op_start": "Special operation start",
    "term.event.gas_test": "Gas analysis",
    "term.event.special_op_pause": "Interruption",
    "term.event.special_op_resume": "Resumption",
    "term.event.special_op_end": "Operation end",
    "term.event.trial_start": "Trial start",
    "term.event.trial_end": "Trial end",
    "term.commitment_item.maintenance": "maintenance",
    "term.commitment_item.trial_production": "trial production",
    "term.commitment_item.startup_shutdown": "start-up/shut-down",
    "term.severity.red": "red",
    "term.severity.orange": "orange",
    "term.severity.yellow": "yellow",
    "term.severity.blue": "blue",
    "term.alarm_state.active": "active",
    "term.alarm_state.acknowledged": "acknowledged",
    "term.alarm_state.closed": "closed",
}

ERRORS: dict[str, str] = {
    "video.owner_unreachable": "Video session {session_id} is owned by another API replica ({owner}) that cannot be reached; try again later",
    "error.error": "The operation failed",
    "error.validation_failed": "The data submitted is not valid",
    "error.not_found": "Not found",
    "error.conflict": "Conflicts with an existing record",
    "error.forbidden": "You may not do this",
    "error.unauthorized": "Not signed in or the session expired",
    "error.rule_violation": "Not allowed in the current state",
    "error.immutable": "The record is published and cannot change",
    "error.storage_unavailable": "The database is unavailable; try again later",
    "error.configuration_error": "Configuration error",
    "error.internal_error": "Internal error",
    "error.method_not_allowed": "Method not allowed",
    "error.too_many_requests": "Too many requests; try again later",
    "error.http_error": "The request cannot be handled",
    "error.request_invalid": "The request is not valid",
    "error.too_large": "The request body is too large",
    "error.bad_request": "Malformed request",
    "error.unsupported_media_type": "Unsupported content type",
}

#: Inspections, findings and 首违不罚 (first-violation) decisions; credit-code checks.
FINDINGS: dict[str, str] = {
    "finding.refused": "Finding refused: {problems:list}",
    "finding.item_unknown": "Item {item} is not in the checklist catalogue",
    "finding.required": "{field:term.finding_field} is required: every rectification requirement states it",
    "finding.deadline_required": "A deadline is required unless the hazard was corrected on site",
    "finding.deadline_past": "Deadline {deadline:date} is in the past",
    "finding.reason.accident": "An accident occurred: excluded from no-penalty-for-first-violation",
    "finding.reason.major_hazard": "Major accident hazard: excluded from no-penalty-for-first-violation",
    "finding.reason.illegal_production": "Illegal production or operation: excluded from no-penalty-for-first-violation",
    "finding.reason.first_violation": "First minor violation of {item} within {days:num} days: guidance and rectification instead of a penalty (Administrative Penalty Law art. 33)",
    "finding.reason.repeat": "{count:num} earlier violation(s) of {item} within {days:num} days: not a first violation",
    "finding.reason.not_minor": "Severity {severity:term.finding_severity} is not minor",
    "finding.reason.not_listed": "{item} is not on the first-violation list",
    "term.finding_field.legal_basis": "Legal basis",
    "term.finding_field.cause": "Cause",
    "term.finding_field.measure": "Measure",
    "term.finding_severity.minor": "minor",
    "term.finding_severity.general": "general",
    "term.finding_severity.major_hazard": "major accident hazard",
    "term.finding_outcome.guidance": "guidance (first violation, no penalty)",
    "term.finding_outcome.rectify": "rectification order",
    "term.finding_outcome.penalty_procedure": "penalty case",
    "credit_code.invalid": "invalid credit code '{code}': {problem}",
    "credit_code.not_text": "credit code must be a string",
    "credit_code.length": "credit code must be {expected} characters, got {actual}",
    "credit_code.upper": "credit code must be upper case",
    "credit_code.char": "character '{ch}' at position {pos} is not allowed in a credit code",
    "credit_code.division": "positions 3-8 (administrative division code) must be digits",
    "credit_code.check": "check character is '{got}', expected '{expected}' (GB 32100-2015)",
}

#: Plans, directory, roles and sectors (a sector's code is listed in config/region.yaml).
DIRECTORY: dict[str, str] = {
    "term.plan_field.plan_id": "Plan id",
    "term.plan_field.title": "Title",
    "term.plan_field.period": "Period",
    "term.plan_field.label": "Label",
    "term.plan_field.start": "Start",
    "term.plan_field.end": "End",
    "term.plan_field.scope": "Scope",
    "term.plan_field.counties": "Counties",
    "term.plan_field.sectors": "Sectors",
    "term.plan_field.mode": "Mode",
    "term.plan_field.fixed_list": "Fixed list",
    "term.plan_field.strata": "Strata",
    "term.plan_field.sector": "Sector",
    "term.plan_field.risk_colour": "Risk colour",
    "term.plan_field.credit_class": "Credit class",
    "term.plan_field.ratio": "Ratio",
    "term.plan_field.min": "Minimum",
    "term.plan_field.max": "Maximum",
    "term.plan_field.sources": "Sources",
    "term.plan_field.yearly_cap": "Yearly cap",
    "term.plan_field.cooldown_days": "Cool-down (days)",
    "term.plan_field.team": "Team",
    "term.plan_field.size": "Team size",
    "term.plan_field.departments": "Departments",
    "term.plan_field.quotas": "Quotas",
    "term.plan_field.experts": "Experts",
    "term.plan_field.workload_cap": "Workload cap",
    "term.plan_field.own_county_rule": "Own-county recusal",
    "term.plan_field.kind": "Public value source kind",
    "term.plan_field.name": "Public value source",
    "term.plan_field.round": "Issue or round",
    "term.plan_field.read_after": "Read no earlier than",
    "term.plan_field.read_delay_hours": "Hours after the freeze to read it",
    "term.plan_field.note": "Internal note (never published)",
    "term.plan_field.priority": "Staffing priority",
    "term.exclusion_reason.under_investigation": "Under investigation",
    "term.exclusion_reason.recently_inspected": "Recently inspected",
    "term.exclusion_reason.special_campaign": "Covered by a special campaign",
    "term.exclusion_reason.closing_down": "Closing down",
    "term.exclusion_reason.court_order": "Court or review decision",
    "term.exclusion_reason.other": "Other",
    "term.repeat_reason.population_error": "Error in the population",
    "term.repeat_reason.staffing_failure": "Officers could not be sent",
    "term.repeat_reason.public_value_unavailable": "Public value unavailable",
    "term.repeat_reason.review_order": "Review or superior's decision",
    "term.repeat_reason.other": "Other",
    "term.public_source_kind.lottery": "Lottery numbers",
    "term.public_source_kind.beacon": "Public randomness beacon",
    "term.public_source_kind.none": "None (tests only)",
    "term.plan_field.exclusions": "Exclusions",
    "term.plan_field.shutdown_policy": "Shut-down enterprises",
    "term.plan_field.shutdown_states": "States counted as shut down",
    "term.plan_field.enterprises": "Excluded enterprises",
    "term.plan_field.code": "Credit code",
    "term.plan_field.reason": "Reason",
    "term.plan_field.schedule": "Schedule",
    "term.plan_field.cron": "Cron",
    "term.plan_field.timezone": "Time zone",
    "term.plan_field.window_days": "Window (days)",
    "term.plan_field.period_format": "Period format",
    "term.plan_field.public_value": "Public value",
    "term.draw_mode.random": "random",
    "term.draw_mode.fixed": "fixed list",
    "term.shutdown_policy.exclude": "excluded",
    "term.shutdown_policy.include": "included",
    "term.public_value_source.none": "draw at once",
    "term.public_value_source.witnessed": "witnessed public value",
    "term.directory_state.operating": "operating",
    "term.directory_state.shutdown": "shut down",
    "term.directory_state.trial": "trial",
    "term.directory_state.suspended": "suspended",
    "term.pool.expert": "expert pool",
    "term.role.admin": "administrator",
    "term.role.supervisor": "supervisor",
    "term.role.duty": "duty staff",
    "term.role.inspector": "inspector",
    "term.role.enterprise": "enterprise",
    "term.timezone.Asia/Shanghai": "China Standard Time",
    "term.sector.coal_chemical": "coal chemical",
    "term.sector.power": "power",
    "term.sector.non_coal_mine": "non-coal mining",
    "term.sector.hazchem_production": "hazardous chemicals production",
    "term.sector.hazchem_trade": "hazardous chemicals trade",
    "term.sector.hazchem_storage": "hazardous chemicals storage",
    "term.sector.industry_trade": "industry and trade",
    "term.sector.fireworks": "fireworks",
}

COMMON: dict[str, str] = {"common.yes": "yes", "common.no": "no", "common.none": "none"}

#: MQTT reject reasons (`reject.<code>`, one per RejectCode): what the site must fix; sent as
#: `message` beside the stable `code` and the technical `reason` on …/reject (docs/protocol.md).
REJECTS: dict[str, str] = {
    "reject.topic_invalid": "The topic is malformed: it must be “prefix/ent/credit code/kind”; check the topic you publish to",
    "reject.topic_unknown": "The message kind in the topic is not supported: use one of the kinds of the protocol (event, telemetry, commitment, presence, ack, video)",
    "reject.credit_code_invalid": "The unified social credit code in the topic is invalid (length, characters, division code or check character); check your enterprise's code",
    "reject.enterprise_unknown": "This credit code is not in the directory of supervised enterprises or was deregistered; ask the local emergency management bureau to register it",
    "reject.payload_too_large": "The message exceeds the allowed size; split it (e.g. fewer telemetry points per message) and send the parts",
    "reject.json_invalid": "The message is not valid JSON text or contains illegal characters; check its encoding and content",
    "reject.schema_invalid": "The message's fields do not fit its topic or event type (missing, wrong type, out of range or contradictory); fix the fields named in the reason and send it again",
    "reject.timestamp_invalid": "A time is malformed: it must be a standard time with an offset (e.g. 2026-12-03T09:30:00+08:00) and not before 2000",
    "reject.timestamp_future": "The message's time is too far ahead of the service's clock; correct the clock of the site's device or gateway and send it again",
    "reject.timestamp_out_of_range": "A planned time is too far from the event's time, or a permit's validity exceeds the allowed range; check the times",
    "reject.value_out_of_range": "A telemetry value is beyond the allowed range; check the value and unit of that tag",
    "reject.event_id_reused": "This event id is already used by a different event; give each new event a new id",
    "reject.ref_unknown": "The acknowledged guidance or notice id does not exist (never sent to this enterprise); check the id in the ack",
    "reject.storage_refused": "The service's database refused this message; check its content and contact the platform's operators if it happens again",
}

#: The enterprise portal: what a refused report needs fixed, by MQTT reject code.
PORTAL: dict[str, str] = {
    "term.state.portal_reports.pending": "processing",
    "term.state.portal_reports.stored": "stored",
    "term.state.portal_reports.refused": "refused",
    "licence.first": "{kind} (no. {number}) expires on {valid_to:date}. Under {basis}, renewal must be applied for {months:num} months before expiry, i.e. by {deadline:date}, at {authority}. Procedure: {procedure}. Conditions: {conditions}.",
    "licence.deadline": "Today ({deadline:date}) is the last day to apply for renewal of {kind} (no. {number}) ({basis}: {months:num} months before expiry); it expires on {valid_to:date}. If not yet applied, apply at {authority} today. Procedure: {procedure}. Conditions: {conditions}.",
    "licence.last": "The deadline to apply for renewal of {kind} (no. {number}) ({deadline:date}) has passed; it expires on {valid_to:date}, in {days:num} days. If not yet applied, apply at {authority} at once. Procedure: {procedure}. After expiry: {after_expiry}.",
    "licence.expired": "{kind} (no. {number}) expired on {valid_to:date}. {after_expiry}. If renewal was granted, report the new licence's number and validity to the bureau.",
    "term.licence_stage.none": "not yet due",
    "term.licence_stage.first": "first reminder",
    "term.licence_stage.deadline": "last day to apply",
    "term.licence_stage.last": "application deadline passed",
    "term.licence_stage.expired": "expired",
    "term.notice_kind.licence_expiry": "licence expiry reminder",
    "term.notice_kind.rectification_deadline": "rectification deadline reminder",
    "term.notice_kind.restart_decision": "restart decision",
    "term.notice_kind.inspection_notice": "inspection notice",
    "portal.refused": "report not accepted: {why}",
    "portal.pending": "report received and being processed; see its result under My reports",
    "portal.body": "the report must be a JSON object",
    "portal.reject.topic_invalid": "invalid report address",
    "portal.reject.topic_unknown": "unsupported report kind",
    "portal.reject.credit_code_invalid": "invalid unified social credit code",
    "portal.reject.enterprise_unknown": "the enterprise is not in the directory or deregistered",
    "portal.reject.payload_too_large": "the report is too large",
    "portal.reject.json_invalid": "the report is not valid JSON",
    "portal.reject.schema_invalid": "required fields missing or invalid; check: {fields:list}",
    "portal.reject.timestamp_invalid": "a time is invalid (date and time with offset); check: {fields:list}",
    "portal.reject.timestamp_future": "the report's time is in the future; check the phone's clock",
    "portal.reject.timestamp_out_of_range": "a planned time or permit validity is out of range",
    "portal.reject.value_out_of_range": "a value is out of range",
    "portal.reject.event_id_reused": "this report id was used for a different report; reload and fill in again",
    "portal.reject.ref_unknown": "the message to acknowledge does not exist or is not addressed to this enterprise",
    "portal.reject.storage_refused": "the report could not be stored now; try again later",
    "term.report_field.event_id": "event id",
    "term.report_field.ts": "time",
    "term.report_field.type": "type",
    "term.report_field.scope": "scope",
    "term.report_field.units": "units",
    "term.report_field.reason": "reason",
    "term.report_field.planned_resume": "planned resume",
    "term.report_field.planned_at": "planned at",
    "term.report_field.self_check": "self check",
    "term.report_field.item": "item",
    "term.report_field.ok": "ok",
    "term.report_field.maint_id": "maint id",
    "term.report_field.planned_end": "planned end",
    "term.report_field.op_id": "op id",
    "term.report_field.op_type": "op type",
    "term.report_field.grade": "grade",
    "term.report_field.permit_no": "permit no",
    "term.report_field.valid_from": "valid from",
    "term.report_field.valid_to": "valid to",
    "term.report_field.location": "location",
    "term.report_field.guardian": "guardian",
    "term.report_field.guardian_cert": "guardian cert",
    "term.report_field.gas_test": "gas test",
    "term.report_field.o2_pct": "O2 %",
    "term.report_field.lel_pct": "LEL %",
    "term.report_field.toxic_ppm": "toxic gas ppm",
    "term.report_field.gas": "gas",
    "term.report_field.analyst": "analyst",
    "term.report_field.trial_id": "trial id",
    "term.report_field.date": "date",
    "term.report_field.total": "total",
    "term.report_field.running": "running",
    "term.report_field.stopped": "stopped",
    "term.report_field.risk_level": "risk level",
    "term.report_field.committed_by": "committed by",
    "term.report_field.committed_at": "committed at",
    "term.report_field.ref": "ref",
    "portal.field": "field {name}",
    "portal.field_unnamed": "how the fields fit together",
}

MESSAGES: dict[str, str] = {
    **ALARMS,
    **TERMS,
    **ERRORS,
    **FINDINGS,
    **DIRECTORY,
    **COMMON,
    **REJECTS,
    **WORKBENCH,
    **PORTAL,
    **ADVISOR,
}
