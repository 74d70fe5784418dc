"""zh-CN texts of the flexible instruments' documents (measure 4) and the overdue-rectification
alarm (issue 15). Kept apart so the workbench's other texts are not touched."""

from __future__ import annotations

INSTRUMENTS: dict[str, str] = {
    # the alarm raised once per overdue rectification order (config/alarm_rules.yaml)
    "alarm.rectification_overdue": "{name}：《责令限期整改指令书》{doc_no}的整改期限{deadline:date}已过，尚未经复查确认整改完成",
    "alarm.rectification_overdue.verified": "整改经复查确认完成，告警由系统关闭",
    "alarm.rectification_overdue.extended": "整改期限经批准延长至{deadline:date}，告警由系统关闭",
}
