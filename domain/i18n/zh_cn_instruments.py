"""zh-CN texts of the flexible instruments' documents (measure 4) and the overdue-rectification
alarm (issue 15). Kept apart so the workbench's other texts are not touched."""

from __future__ import annotations

INSTRUMENTS: dict[str, str] = {
    # the alarm raised once per overdue rectification order (config/alarm_rules.yaml)
    "alarm.rectification_overdue": "{name}：《责令限期整改指令书》{doc_no}的整改期限{deadline:date}已过，尚未经复查确认整改完成",
    "alarm.rectification_overdue.verified": "整改经复查确认完成，告警由系统关闭",
    "alarm.rectification_overdue.extended": "整改期限经批准延长至{deadline:date}，告警由系统关闭",
    "measure.meeting_only_interview": "约谈时间、地点和被约谈人只适用于行政约谈",
    "measure.meeting_at_required": "行政约谈须写明约谈时间（不早于现在），写入约谈通知书",
    "measure.meeting_place_required": "行政约谈须写明约谈地点（至少{min:num}个字）",
    "measure.meeting_attendee_required": "行政约谈须写明被约谈人（如企业主要负责人姓名、职务）",
    "measure.minutes_refused": "约谈记录未被接受：{problems:list}",
    "measure.held_at_future": "约谈时间不能晚于现在（约谈举行后才能记录）",
    "measure.attendees_required": "须写明被约谈人及参加约谈的企业人员",
    "measure.minutes_too_short": "约谈情况至少{min:num}个字",
    "measure.minutes_only_interview": "只有行政约谈才有约谈记录",
    "measure.minutes_recorded": "执法措施{measure_id}的约谈记录已记录，不能改写",
    "document.not_for_measure": "执法措施{measure_id}（{kind:term.measure}）没有这种执法文书：{document}",
    "document.no_minutes": "约谈尚未记录，不能出具约谈记录（请先记录约谈情况）",
    "document.no_meeting": "该约谈没有写明约谈时间、地点和被约谈人，不能出具约谈通知书",
    "document.team_only": "只有本次检查的检查组执法人员或主管才能查看该执法文书",
}
