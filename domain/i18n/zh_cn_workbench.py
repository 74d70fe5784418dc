"""zh-CN texts of the inspector's workbench (issue 15): teams, evidence, findings, the advisor,
the rectification loop. Kept apart from zh_cn.py so the workbench's texts read in one place."""

from __future__ import annotations

WORKBENCH: dict[str, str] = {
    # who may record on an inspection (measure 10; 行政处罚法 第四十二条、第四十三条、第五十五条)
    "inspection.record_role": "只有检查组中的执法人员（检查员账号）才能在检查记录上记录和签署",
    "inspection.not_linked": "该检查员账号未关联执法人员，不能在检查记录上记录",
    "inspection.not_on_team": "只有本次检查的检查组成员才能在该检查记录上记录（执法人员{officer}不在检查组中）",
    "inspection.expert_may_not_sign": "{name}是辅助人员（专家），不能签署、作出决定或单独执法（包容审慎监管措施第十条）",
    "inspection.certificate_invalid": "{name}的行政执法证件无效或已过期（{valid_to}），不能执法（《行政处罚法》第四十二条、第五十五条）",
    "inspection.closed": "检查记录{inspection_id}已{status:term.state.inspections}，不能再修改",
    "inspection.reason_required": "必须写明理由（至少{min:num}个字）",
    "inspection.team.refused": "检查组不符合要求：{problems:list}",
    "inspection.team.one_leader": "检查组必须有且只有一名检查组长",
    "inspection.team.two_officers": "检查组至少需要两名执法人员（专家不计入，《行政处罚法》第四十二条），现有{count:num}名",
    "inspection.team.leader_expert": "专家{name}是辅助人员，不能担任检查组长或执法人员",
    "inspection.team.expert_not_auxiliary": "{name}是执法人员，不能作为辅助人员（专家）列入",
    "inspection.team.inactive": "{name}已停用，不能列入检查组",
    "inspection.team.conflict": "{name}已申报与该企业存在利害关系，应当回避（《行政处罚法》第四十三条）",
    "inspection.team.duplicate": "同一人员在检查组中只能出现一次：{name}",
    "inspection.follow_up_origin": "复查必须关联原检查记录，且原检查记录属于同一企业",
    "inspection.source_by_hand": "手工创建的检查只能是重点检查、举报核查或复查（双随机检查由抽取产生）",
    "inspection.dates": "计划检查期间无效：结束日期不能早于开始日期",
    "term.inspection_role.leader": "检查组长",
    "term.inspection_role.member": "执法人员",
    "term.inspection_role.expert": "辅助人员（专家）",
    "term.inspection_source.draw": "双随机抽查",
    "term.inspection_source.targeted": "重点检查",
    "term.inspection_source.complaint": "举报核查",
    "term.inspection_source.follow_up": "复查",
    "term.inspection_source.special": "专项检查",
    "term.inspection_source.other": "其他检查",
    # evidence files
    "evidence.too_large": "文件超过{limit:num}兆字节的上限",
    "evidence.empty": "文件为空",
    "evidence.type": "只接受以下类型的证据文件：{types}（按文件内容判断，不按扩展名）",
    "evidence.note_too_long": "说明不能超过{max:num}个字",
}
