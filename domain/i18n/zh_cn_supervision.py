"""zh-CN texts of the supervisors' pages (issue 15): the yearly cap on hand-made inspections and
extension decisions with a granted deadline."""

from __future__ import annotations

SUPERVISION: dict[str, str] = {
    "inspection.yearly_cap_reached": "该企业{year}年度检查次数已达上限（{cap:num}次，已有{counted:num}次），不能再安排检查（国办发〔2024〕54号）",
    "rectification.granted_beyond_request": "批准的整改期限不能晚于企业申请的期限（{requested:date}）",
    "rectification.granted_not_later": "批准的整改期限必须晚于当前期限{current:date}，且不能早于今天",
}
