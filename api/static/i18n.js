// zh-CN first, English on request. t(key) falls back to the key itself.
const DICT = {
  "zh-CN": {
    app_title: "安全生产远程监管值班台", login: "登录", logout: "退出", username: "用户名",
    password: "密码", sign_in_failed: "登录失败", board: "状态总览", alarms: "报警队列",
    plans: "抽查计划", draws: "抽取结果", users: "用户管理", audit: "审计日志", public: "公开信息",
    big_screen: "大屏", laptop: "笔记本", live_on: "实时", live_off: "离线", lang: "EN",
    county: "区县", sector: "行业", risk_colour: "风险等级", state: "状态", all: "全部",
    search: "搜索名称或代码", enterprises: "企业", name: "名称", credit_code: "统一社会信用代码",
    online: "在线", offline: "离线", last_seen: "最后上报", active_alarms: "未处理报警",
    shutdown: "停产", maintenance: "检维修", special_ops: "特殊作业", trial: "试生产",
    operating: "正常生产", restart_requested: "复产申请中", restart_approved: "复产已批准",
    trial_production: "试生产", maintenance_whole: "全厂检修", suspended: "停业",
    red: "红", orange: "橙", yellow: "黄", blue: "蓝", severity: "级别", rule: "规则",
    subject: "对象", message: "内容", raised_at: "报警时间", ack: "确认", close: "关闭",
    acknowledged: "已确认", active: "未确认", closed: "已关闭", cleared: "已消除",
    cause: "原因类别", action_taken: "处置措施", cancel: "取消", submit: "提交",
    confirm_ack: "确认此报警？", close_alarm: "关闭报警", no_alarms: "暂无报警",
    timeline: "状态时间线", telemetry: "监测数据趋势", guidance: "远程指导",
    guidance_text: "指导内容", requires_ack: "需要企业确认", send: "发送",
    delivery: "送达状态", pending: "待送达", sent: "已发送", delivered: "已发布", received: "企业已收到",
    acked: "已确认", expired: "已过期", restart_requests: "复产申请", approve: "批准",
    reject: "驳回", reason: "理由", permit: "安全作业票", valid_to: "有效期至", gas_test: "气体分析",
    guardian: "监护人", remaining: "剩余", overdue: "已超期", none: "无", video: "视频",
    plan: "计划", create_plan: "新建计划", run_draw: "立即抽取", schedule: "定时",
    teams: "检查组", exclusions: "排除名单", download: "下载检查清单", period: "周期",
    published: "已公布", verification: "验证材料", results: "检查结果", commitment: "承诺值",
    secret: "密钥", public_value: "公开随机数", hash: "哈希", algorithm: "算法",
    verifier: "下载验证脚本", loading: "加载中…", error: "出错", saved: "已保存",
    not_found: "未找到", forbidden: "无权访问", total: "共", page_prev: "上一页",
    page_next: "下一页", role: "角色", display_name: "姓名", enterprise_page: "企业详情",
    address: "地址", credit_class: "信用等级", high_risk: "高危", yes: "是", no: "否",
    threshold: "阈值", tag: "位号", from: "从", to: "至", events: "事件",
    op_hot_work: "动火", op_confined_space: "受限空间", op_blind_plate: "盲板抽堵",
    op_work_at_height: "高处", op_lifting: "吊装", op_temp_power: "临时用电",
    op_excavation: "动土", op_road_break: "断路", reconnecting: "重新连接中",
    session_expired: "登录已过期，请重新登录", too_many_requests: "尝试次数过多",
    selected: "抽中企业", officers: "执法人员", experts: "专家", inspection: "检查",
    findings: "检查发现", legal_basis: "法律依据", deadline: "整改期限", measure: "整改措施",
    ratio: "抽取比例", strata: "分层", scope: "范围", created: "已创建", status: "状态",
    new_user: "新建用户", deactivate: "停用", target: "对象", action: "操作", when: "时间",
    who: "操作人", where: "来源", mine: "本企业",
    hazchem_production: "危化品生产", hazchem_trade: "危化品经营", hazchem_storage: "危化品储存",
    non_coal_mine: "非煤矿山", fireworks: "烟花爆竹", industry_trade: "工贸",
    ev_shutdown: "停产", ev_resume_request: "复产申请", ev_resume: "复产", ev_maintenance_start: "检维修开始",
    ev_maintenance_end: "检维修结束", ev_special_op_start: "特殊作业开始", ev_gas_test: "气体分析",
    ev_special_op_pause: "作业中断", ev_special_op_resume: "作业恢复", ev_special_op_end: "作业结束",
    ev_trial_start: "试生产开始", ev_trial_end: "试生产结束", op_state_active: "进行中",
    op_state_paused: "已中断", retest: "需重新分析", seed: "随机种子", hash_rules: "抽查规则",
    hash_enterprises: "企业名录", hash_officers: "执法人员名录", hash_eligibility: "资格判定",
  },
  en: {
    app_title: "Work-safety remote supervision — duty room", login: "Sign in", logout: "Sign out",
    username: "Username", password: "Password", sign_in_failed: "Sign-in failed",
    board: "Status board", alarms: "Alarm queue", plans: "Plans", draws: "Draws",
    users: "Users", audit: "Audit log", public: "Public", big_screen: "Big screen",
    laptop: "Laptop", live_on: "Live", live_off: "Offline", lang: "中文", county: "County",
    sector: "Sector", risk_colour: "Risk colour", state: "State", all: "All",
    search: "Search name or code", enterprises: "Enterprises", name: "Name",
    credit_code: "Credit code", online: "Online", offline: "Offline", last_seen: "Last seen",
    active_alarms: "Open alarms", shutdown: "Shutdown", maintenance: "Maintenance",
    special_ops: "Special ops", trial: "Trial", operating: "Operating",
    restart_requested: "Restart requested", restart_approved: "Restart approved",
    trial_production: "Trial production", maintenance_whole: "Plant overhaul",
    suspended: "Suspended", red: "Red", orange: "Orange", yellow: "Yellow", blue: "Blue",
    severity: "Severity", rule: "Rule", subject: "Subject", message: "Message",
    raised_at: "Raised", ack: "Acknowledge", close: "Close", acknowledged: "Acknowledged",
    active: "Active", closed: "Closed", cleared: "Cleared", cause: "Cause",
    action_taken: "Action taken", cancel: "Cancel", submit: "Submit",
    confirm_ack: "Acknowledge this alarm?", close_alarm: "Close alarm", no_alarms: "No alarms",
    timeline: "Timeline", telemetry: "Telemetry trends", guidance: "Guidance",
    guidance_text: "Guidance text", requires_ack: "Requires acknowledgement", send: "Send",
    delivery: "Delivery", pending: "Pending", sent: "Sent", delivered: "Delivered (published)", received: "Received",
    acked: "Acknowledged", expired: "Expired", restart_requests: "Restart requests",
    approve: "Approve", reject: "Reject", reason: "Reason", permit: "Permit",
    valid_to: "Valid to", gas_test: "Gas test", guardian: "Guardian", remaining: "Left",
    overdue: "Overdue", none: "None", video: "Video", plan: "Plan", create_plan: "New plan",
    run_draw: "Draw now", schedule: "Schedule", teams: "Teams", exclusions: "Exclusions",
    download: "Download lists", period: "Period", published: "Published",
    verification: "Verification", results: "Results", commitment: "Commitment",
    secret: "Secret", public_value: "Public value", hash: "Hash", algorithm: "Algorithm",
    verifier: "Download verifier", loading: "Loading…", error: "Error", saved: "Saved",
    not_found: "Not found", forbidden: "Forbidden", total: "Total", page_prev: "Previous",
    page_next: "Next", role: "Role", display_name: "Name", enterprise_page: "Enterprise",
    address: "Address", credit_class: "Credit class", high_risk: "High risk", yes: "Yes",
    no: "No", threshold: "Threshold", tag: "Tag", from: "From", to: "To", events: "Events",
    op_hot_work: "Hot work", op_confined_space: "Confined space", op_blind_plate: "Blind plate",
    op_work_at_height: "Work at height", op_lifting: "Lifting", op_temp_power: "Temp. power",
    op_excavation: "Excavation", op_road_break: "Road break", reconnecting: "Reconnecting",
    session_expired: "Session expired; sign in again", too_many_requests: "Too many attempts",
    selected: "Selected", officers: "Officers", experts: "Experts", inspection: "Inspection",
    findings: "Findings", legal_basis: "Legal basis", deadline: "Deadline", measure: "Measure",
    ratio: "Ratio", strata: "Strata", scope: "Scope", created: "Created", status: "Status",
    new_user: "New user", deactivate: "Deactivate", target: "Target", action: "Action",
    when: "When", who: "Who", where: "From", mine: "My enterprise",
    hazchem_production: "Haz-chem production", hazchem_trade: "Haz-chem trade",
    hazchem_storage: "Haz-chem storage", non_coal_mine: "Non-coal mine", fireworks: "Fireworks",
    industry_trade: "Industry & trade",
    ev_shutdown: "Shutdown", ev_resume_request: "Restart request", ev_resume: "Resumed",
    ev_maintenance_start: "Maintenance started", ev_maintenance_end: "Maintenance ended",
    ev_special_op_start: "Special op started", ev_gas_test: "Gas test",
    ev_special_op_pause: "Op interrupted", ev_special_op_resume: "Op resumed",
    ev_special_op_end: "Op ended", ev_trial_start: "Trial started", ev_trial_end: "Trial ended",
    op_state_active: "in progress", op_state_paused: "interrupted", retest: "re-test needed",
    seed: "Seed", hash_rules: "rules", hash_enterprises: "enterprises", hash_officers: "officers",
    hash_eligibility: "eligibility",
  },
};

export const OP_TYPES = ["hot_work", "confined_space", "blind_plate", "work_at_height",
  "lifting", "temp_power", "excavation", "road_break"];

let lang = localStorage.getItem("sw.lang") || "zh-CN";

export function getLang() { return lang; }

export function setLang(next) {
  lang = next in DICT ? next : "zh-CN";
  localStorage.setItem("sw.lang", lang);
  document.documentElement.lang = lang;
}

// The server's message catalogue (domain/i18n): states, reasons, op types, grades, severities.
const TERMS = {};

/** Load the catalogue's vocabulary for the current language (once per language). */
export async function loadMessages() {
  if (TERMS[lang]) return;
  try {
    const res = await fetch(`/public/v1/messages?lang=${encodeURIComponent(lang)}`);
    TERMS[lang] = res.ok ? (await res.json()).messages : {};
  } catch (_) {
    TERMS[lang] = {};
  }
}

/** The display name of a code in a vocabulary, e.g. term("draw_reason", "yearly_cap_reached"). */
export function term(group, value) {
  if (value === null || value === undefined || value === "") return "";
  const key = `term.${group}.${value}`;
  return (TERMS[lang] && TERMS[lang][key]) || (TERMS["zh-CN"] && TERMS["zh-CN"][key]) || String(value);
}

/** A number for reading in the current language (thousands separators, ≤ 2 decimals). */
export function fmtNum(n) {
  if (typeof n !== "number") return String(n ?? "");
  return n.toLocaleString(lang === "en" ? "en-GB" : "zh-CN", { maximumFractionDigits: 2 });
}

export function t(key) {
  return (DICT[lang] && DICT[lang][key]) || DICT["zh-CN"][key] || key;
}

const TZ = "Asia/Shanghai";

export function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(lang === "en" ? "en-GB" : "zh-CN", { timeZone: TZ, hour12: false });
}

export function fmtDuration(ms) {
  const neg = ms < 0;
  let s = Math.abs(Math.round(ms / 1000));
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  const text = `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
  return neg ? `-${text}` : text;
}

/** Translate every element carrying data-i18n (text) or data-i18n-ph (placeholder). */
export function translateDom(root = document) {
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-ph]").forEach((el) => { el.placeholder = t(el.dataset.i18nPh); });
}
