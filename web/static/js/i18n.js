// Interface text: Chinese first, English on the toggle. Data (names of places) stays as it is.
const EN = {
  dispatch: "Dispatch", hotspots: "Hotspots", planner: "Planner", search_label: "Search", go: "Find",
  search_hint: "Address, asset ID, area code or coordinates (gcj02:120.3791,36.0962)",
  base_none: "No base map", sign_in: "Sign in", sign_out: "Sign out", queue: "Case queue", open_cases: "Open cases",
  registered: "To dispatch", in_hand: "In hand", closed: "Closed", all_categories: "All categories",
  overdue: "Overdue", hotspots_title: "Hotspots (Gi*)", d30: "Last 30 days", d90: "Last 90 days",
  d365: "Last year", chosen_address: "Chosen address", match_exact: "exact", match_house_near: "nearby doorplate",
  match_road: "road only", match_fuzzy: "fuzzy", edge_distance: "Distance to the micro-grid's edge",
  ambiguous: "near an edge: check which grid", outside_district: "Not in the district", belongs_to: "is in",
  ambiguous_place: "Places of this name: choose one; none is chosen for you",
  untrusted_match: "Uncertain match: a case filed with it goes to the district desk to be placed",
  generated_name: "generated name", mom: "Month over month", versus: "vs", partial: "so far", no_months: "No cases yet: no month to compare", street: "Street", this_month: "This month", last_month: "Last month",
  coverage_title: "Coverage", parking: "Car parks", covers: "Manhole covers", cameras: "Cameras", radius: "Radius",
  ev_only: "EV charging only", community: "Community", grid: "Grid", csv: "Download CSV", area: "Area",
  uncovered_downloads: "Uncovered micro-grids",
  micro: "Micro-grids", covered: "Covered", households: "Households covered", user: "User", password: "Password",
  cancel: "Cancel", located: "Located", district: "District", whole_city: "Whole city", micro_grid: "Micro-grid", worker: "Grid worker",
  nearest_assets: "Nearest assets", nearby_cases: "Open cases nearby", outside: "Outside every grid",
  no_results: "Nothing found", dispatch_action: "Dispatch", hot: "hot", cold: "cold", cells: "cells",
  cases: "cases", generated: "Grids, assets and cases are generated demo data.", legend: "Legend",
  uncovered: "Uncovered micro-grid", hot_cell: "Hotspot (FDR 5%)", cold_cell: "Cold spot", cover_ok: "Cover",
  cover_bad: "Cover (defect)", park_ev: "Car park with EV", park: "Car park", planned: "Planned / building",
  case: "Case", within: "within", of: "of", received: "received", dispatched: "dispatched",
  in_progress: "in progress", verifying: "verifying", rework: "rework", rejected: "rejected",
  duplicate: "duplicate", red: "overdue (red)", amber: "due soon (amber)",
};
const ZH = {
  sign_out: "退出", located: "定位结果", district: "区", whole_city: "全市", micro_grid: "微网格", worker: "网格员",
  nearest_assets: "附近部件", nearby_cases: "附近未结案件", outside: "不在任何网格内", no_results: "没有找到",
  dispatch_action: "派遣", hot: "热点", cold: "冷点", cells: "个单元", cases: "件",
  generated: "网格、部件与案件为生成的示例数据。", legend: "图例", uncovered: "未覆盖微网格",
  hot_cell: "热点 (FDR 5%)", cold_cell: "冷点", cover_ok: "井盖", cover_bad: "井盖 (病害)",
  park_ev: "停车场 (有充电桩)", park: "停车场", planned: "规划/在建", case: "案件", within: "内", of: "/",
  street: "街道", community: "社区", grid: "网格", micro: "微网格", households: "户数覆盖",
  sign_in: "登录", received: "已受理", registered: "已立案", dispatched: "已派遣", in_progress: "处置中",
  verifying: "核查中", rework: "返工", closed: "已结案", rejected: "不予受理", duplicate: "重复",
  chosen_address: "已选地址", match_exact: "精确匹配", match_house_near: "相近门牌", match_road: "仅匹配道路",
  match_fuzzy: "模糊匹配", edge_distance: "距微网格边界", ambiguous: "靠近边界，请核实归属",
  outside_district: "不在本区", belongs_to: "属于", ambiguous_place: "重名地点：请选择其一，系统不会自动选择",
  untrusted_match: "匹配不确定：立案将转区级受理台人工定位", generated_name: "生成名称",
  red: "红色超期", amber: "黄色预警", versus: "对比", partial: "截至目前", no_months: "暂无案件：没有可比较的月份",
};

let lang = "zh";
export function setLang(next) {
  lang = next;
  document.documentElement.lang = next === "en" ? "en" : "zh-CN";
  for (const el of document.querySelectorAll("[data-i18n]")) {
    if (!el.dataset.zh) el.dataset.zh = el.textContent;
    el.textContent = next === "en" ? EN[el.dataset.i18n] || el.dataset.zh : el.dataset.zh;
  }
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
    if (!el.dataset.zh) el.dataset.zh = el.placeholder;
    el.placeholder = next === "en" ? EN[el.dataset.i18nPlaceholder] : el.dataset.zh;
  }
}
export function t(key) {
  return (lang === "en" ? EN[key] : ZH[key]) || EN[key] || key;
}
export function currentLang() {
  return lang;
}

// --- the case workbench, the case page, the filing form ------------------------------------------
Object.assign(EN, {
  cases_nav: "Cases", map_nav: "Map", new_case: "New case", signed_out: "Not signed in",
  session_ended: "Your session has ended: sign in again to go on where you were.",
  all: "All", saved_filters: "Saved filters", save_filter: "Save filter", filter_name: "Name of the filter",
  my_todo: "My to-do", my_unit: "My unit", overdue_red: "Overdue", due_soon: "Due soon", suspended: "Suspended",
  number: "Number", category: "Category", status: "Status", where: "Address / area", source: "Source",
  age: "Age", time_left: "Time left", page_prev: "Previous", page_next: "Next", matched: "matched",
  export_csv: "Export CSV", export_xlsx: "Export XLSX", exporting: "Exporting", export_ready: "Download",
  all_sources: "All sources", all_streets: "All streets", all_units: "All units", any_level: "Any deadline",
  search_cases: "Number, description or address", since: "From", until: "To", apply: "Apply", hours: "h",
  days: "d", left: "left", over: "over", sign_in_first: "Sign in to work cases.",
  sla: "Time limits", warn_at: "Warning", deadline: "Deadline", escalate_at: "Escalation",
  location: "Location", located_by: "Located by", raw_input: "As given", description: "Description",
  photos: "Photos", reporters: "Reporters", routed: "Routed to", why: "why", duplicates: "Likely duplicates",
  history: "History", asset: "Asset", note: "Note", standard_texts: "Standard texts", confirm: "Confirm",
  unit: "Unit", review_on: "Review on", extension_hours: "Extension (hours)", satisfied: "Satisfied",
  not_satisfied: "Not satisfied", merge_into: "Merge into this case", urged_times: "Urged",
  rounds: "Round", repeats_n: "Repeat calls", pending_extension: "Extension asked",
  act_register: "Register", act_reject: "Reject", act_dispatch: "Dispatch", act_accept: "Accept",
  act_return: "Return", act_report: "Report done", act_close: "Verify & close", act_rework: "Send back",
  act_transfer: "Transfer", act_urge: "Urge", act_extend: "Ask for time", act_approve_extension: "Approve extension",
  act_refuse_extension: "Refuse extension", act_suspend: "Suspend", act_resume: "Resume", act_reopen: "Reopen",
  act_correct: "Correct", act_evaluate: "Record evaluation", act_merge: "Merge", act_filed: "Filed",
  act_repeat: "Repeat call", address: "Address", photo_url: "Photo URL (after)",
  routed_matrix: "responsibility matrix", routed_territory: "territory first (events)", routed_owner: "the asset's owner",
  routed_category: "the category's department", routed_fallback: "the territory takes what nobody owns",
  routed_needs_location: "needs a location: the district desk places it",
  by_coordinates: "coordinates", by_address: "address", by_asset: "asset", by_camera: "camera",
  by_needs_location: "needs location", by_none: "no location",
  file_case: "File the case", attach: "Attach this call to it", coords_hint: "Coordinates, e.g. 120.3791,36.0962 or gcj02:120.3791,36.0962",
  swapped: "These look like latitude, longitude: use them swapped?", use_swapped: "Use swapped",
  reporter_name: "Caller's name", reporter_phone: "Phone", consent: "May show the name",
  asset_id: "Asset ID", locate_by: "Locate by", by_map: "Click on the map", choose_category: "Type to search categories",
  nearby_same: "Open cases of this category nearby", none_nearby: "No open case of this category nearby",
  area_code_hint: "Community, grid or micro-grid code", filed: "Filed", overdue_now: "overdue", all_statuses: "All", in_view: "in the map's view (the workbench lists all)",
  err_session_expired: "Your session has ended; sign in again", err_unauthorized: "Not signed in, or wrong user name or password",
  err_csrf: "This page has expired: reload it and try again", err_forbidden: "You may not do this",
  err_illegal_transition: "The case's state does not allow this", err_stale: "Someone changed this case meanwhile: look at it again, then act",
  err_unit_outside_matrix: "That unit is not among the matrix's candidates for this case",
  err_extension_too_long: "Longer than this category allows", err_rate_limited: "Too many attempts; wait a moment",
  err_not_found: "Not found", err_conflict: "This contradicts what is stored", err_database_unavailable: "The database is unavailable; retry shortly",
  err_invalid: "Please check", err_other: "It did not work",
  f_note: "the note", f_unit: "the unit", f_hours: "the hours", f_review_on: "the review date", f_category: "the category",
  f_address: "the address", f_lon: "the coordinates", f_lat: "the coordinates", f_photos: "the photos", f_version: "the version",
  f_description: "the description", f_asset_id: "the asset ID", f_q: "the search text", f_name: "the name",
});
Object.assign(ZH, {
  cases_nav: "案件", map_nav: "地图", new_case: "新建案件", signed_out: "未登录",
  session_ended: "登录已过期：请重新登录，继续刚才的操作。",
  all: "全部", saved_filters: "常用筛选", save_filter: "保存筛选", filter_name: "筛选名称",
  my_todo: "我的待办", my_unit: "本单位", overdue_red: "超期", due_soon: "即将超期", suspended: "挂账",
  number: "编号", category: "类别", status: "状态", where: "地址/区域", source: "来源", age: "已用时",
  time_left: "剩余时限", page_prev: "上一页", page_next: "下一页", matched: "条",
  export_csv: "导出 CSV", export_xlsx: "导出 XLSX", exporting: "正在导出", export_ready: "下载",
  all_sources: "全部来源", all_streets: "全部街道", all_units: "全部单位", any_level: "全部时限",
  search_cases: "编号、描述或地址", since: "起", until: "止", apply: "查询", hours: "小时", days: "天",
  left: "剩余", over: "超时", sign_in_first: "请登录后办理案件。",
  sla: "办理时限", warn_at: "预警", deadline: "时限", escalate_at: "升级", location: "位置",
  located_by: "定位方式", raw_input: "原始输入", description: "描述", photos: "照片", reporters: "反映人",
  routed: "派往", why: "依据", duplicates: "疑似重复", history: "办理记录", asset: "部件", note: "意见",
  standard_texts: "常用语", confirm: "确认", unit: "单位", review_on: "复核日期", extension_hours: "延期（小时）",
  satisfied: "满意", not_satisfied: "不满意", merge_into: "合并到本案", urged_times: "督办",
  rounds: "轮次", repeats_n: "重复来电", pending_extension: "延期申请", photo_url: "处置后照片地址",
  act_register: "立案", act_reject: "不予立案", act_dispatch: "派遣", act_accept: "接收处置", act_return: "退回",
  act_report: "处置反馈", act_close: "核查结案", act_rework: "返工", act_transfer: "转办", act_urge: "督办",
  act_extend: "申请延期", act_approve_extension: "同意延期", act_refuse_extension: "不同意延期", act_suspend: "挂账",
  act_resume: "恢复办理", act_reopen: "重新办理", act_correct: "更正", act_evaluate: "回访评价", act_merge: "合并",
  act_filed: "受理登记", act_repeat: "重复来电", address: "地址",
  routed_matrix: "责任矩阵", routed_territory: "事件先属地", routed_owner: "部件属主", routed_category: "类别主管部门",
  routed_fallback: "属地兜底", routed_needs_location: "需人工定位：区级受理台处理",
  by_coordinates: "坐标", by_address: "地址", by_asset: "部件", by_camera: "摄像头", by_needs_location: "待定位",
  by_none: "无位置", file_case: "立案登记", attach: "作为重复来电并入该案", coords_hint: "坐标，如 120.3791,36.0962 或 gcj02:120.3791,36.0962",
  swapped: "看起来是「纬度,经度」顺序：是否交换后使用？", use_swapped: "交换后使用",
  reporter_name: "来电人姓名", reporter_phone: "电话", consent: "同意显示姓名", asset_id: "部件编码",
  locate_by: "定位方式", by_map: "在地图上点击", choose_category: "输入以搜索类别",
  nearby_same: "附近同类未结案件", none_nearby: "附近没有同类未结案件", filed: "已登记", overdue_now: "超期",
  all_statuses: "全部", cancel: "取消", user: "用户名", password: "密码", open_cases: "未结案件", in_view: "当前地图范围内（全部案件见案件工作台）",
  err_session_expired: "登录已过期，请重新登录", err_unauthorized: "未登录，或用户名、密码错误",
  err_csrf: "页面已失效，请刷新后重试", err_forbidden: "没有权限执行此操作", err_illegal_transition: "案件当前状态不允许此操作",
  err_stale: "案件已被他人修改：请查看最新情况后再操作", err_unit_outside_matrix: "所选单位不在责任矩阵为本案给出的候选单位中",
  err_extension_too_long: "延期时长超过该类别允许的上限", err_rate_limited: "操作过于频繁，请稍后再试",
  err_not_found: "未找到", err_conflict: "与已保存的数据冲突", err_database_unavailable: "数据库暂不可用，请稍后重试",
  err_invalid: "请检查", err_other: "操作未成功",
  f_note: "意见", f_unit: "单位", f_hours: "延期时长", f_review_on: "复核日期", f_category: "类别", f_address: "地址",
  f_lon: "坐标", f_lat: "坐标", f_photos: "照片", f_version: "版本", f_description: "描述", f_asset_id: "部件编码",
  f_q: "搜索内容", f_name: "名称",
});

const INVALID = new Set(["invalid_input", "invalid_request", "bad_request", "invalid_coordinates", "unknown_crs", "invalid_geometry"]);

// An API error in the interface's language, from its code and field (the server's English
// message stays for the element's title).
export function errorText(error) {
  const code = error && error.code;
  if (!code) return (error && error.message) || t("err_other");
  const field = error.field ? t(`f_${error.field.split(".")[0]}`) : "";
  if (INVALID.has(code)) return `${t("err_invalid")}${field.startsWith("f_") ? "" : ` ${field}`}`;
  const known = t(`err_${code}`);
  if (known !== `err_${code}`) return known;
  return t("err_other");
}


// --- the phone pages: 随手拍, tracking, the field worker's tasks -----------------------------------
Object.assign(EN, {
  offline_banner: "Offline: what you do is kept on the phone and sent when you are back online",
  waiting_to_send: "Waiting to be sent", generated_footer: "Boundaries, streets and communities are real; grids, assets and cases are generated demo data.",
  not_sent: "not sent", dismiss: "OK", remove_photo: "Remove the photo", report_title: "Report a problem",
  where: "Where is it?", use_gps: "📍 Use my location", address_hint: "or type an address, e.g. 辽宁路100号", find: "Find",
  spot_hint: "Drag the marker on the map, or add a photo that knows where it was taken", what: "What is the problem?",
  already: "Already reported nearby", photos_title: "Photos (1–3)", take_photo: "📷 Take or choose photos",
  describe: "A few words (optional)", contact_title: "Contact (optional)", your_name: "Your name", your_phone: "Mobile",
  tell_me: "Text me when something happens", show_name: "Staff may see my name",
  privacy_note: "Your number is only used to tell you about this report; the public never sees it, and places are shown to about 50 m.",
  send: "Send", thanks: "Received, thank you!", your_number: "Number", follow_link: "See how it goes",
  report_again: "Report another", my_reports: "My reports", by_pin: "On the map", by_gps: "My location",
  by_address: "Address", outside_platform: "outside the districts served here: the district it is in handles it",
  no_gps: "The phone could not say where you are: drag the marker instead", finding_you: "Finding where you are…",
  about: "about", metres: "m", see_it: "See it", me_too: "Me too: follow this one", label_follow: "Follow",
  choose_kind: "Choose what the problem is", need_spot: "Mark the spot on the map, or add a photo taken there",
  bad_phone: "That mobile number does not look right", label_report: "Report", when_online: "(when sent)",
  kept_on_phone: "Kept on the phone: it is sent when you are back online", following_now: "You follow this report now",
  track_title: "Progress", merged_into: "Merged with the same problem:", visit_title: "Are you satisfied with how it was handled?",
  satisfied_btn: "😊 Satisfied", unsatisfied: "🙁 Not satisfied", visit_note: "Anything else (optional)",
  steps: "Steps", approximate: "The place is shown to about 50 m.", report_new: "Report a new problem",
  step_create: "Your report was received", step_registered: "Accepted as a case", step_dispatched: "Sent to the unit in charge",
  step_in_progress: "Being handled", step_verifying: "Handled; being checked on site", step_closed: "Done",
  step_rework: "The check found it not done: handled again", step_rejected: "Not accepted", step_follow: "Another resident reported it too",
  step_urge: "Urged by the supervisors", step_evaluate: "Your evaluation was received", step_merge: "Merged with the same report",
  step_repeat: "Reported again", step_suspend: "Put on hold", step_resume: "Taken up again",
  reply: "Reply", said_satisfied: "You said you were satisfied. Thank you!", said_unsatisfied: "You said you were not satisfied; we will look at it again.",
  photo: "photo", thanks_visit: "Thank you for your answer.", no_such_case: "No case with this number",
  field_sign_in: "Grid and field staff: sign in", my_tasks: "My tasks", refresh: "Refresh", no_tasks: "No tasks",
  overdue_by: "overdue by", time_left: "left", to_verify: "Verify", to_handle: "Handle",
  nearest_first: "Overdue first, then nearest to you", no_position: "Overdue first (no position: not by distance)",
  back: "‹ Tasks", navigate: "Navigate", amap: "Amap", call_reporter: "Call the reporter", start_work: "Start work",
  finish_work: "Work done", after_photos: "📷 Photos after (at least 1)", what_done: "What was done",
  report_done: "Send the result", verify_work: "Verify", verify_note: "Note (needed when it fails)",
  verify_pass: "Passed: close the case", verify_fail: "Failed: back to work", sent: "sent",
  need_after_photo: "Add at least one photo of the result", need_verify_note: "Say why it failed",
  err_offline: "Offline, and this was not kept on the phone", err_too_large: "Too large",
});
Object.assign(ZH, {
  not_sent: "未能发送", dismiss: "知道了", remove_photo: "删除照片", by_pin: "地图选点", by_gps: "我的位置", by_address: "地址",
  outside_platform: "不在本平台所辖区域：由所在区处理", no_gps: "无法获取位置：请拖动地图上的标记", finding_you: "正在获取位置…",
  about: "约", metres: "米", see_it: "查看", me_too: "我也遇到了，关注这件", label_follow: "关注",
  choose_kind: "请选择问题类型", need_spot: "请在地图上标出位置，或上传在现场拍的照片", bad_phone: "手机号码格式不对",
  label_report: "随手拍", when_online: "（发送后生成）", kept_on_phone: "已保存在手机上，联网后自动发送",
  following_now: "已关注这件问题", thanks: "已收到，谢谢！", step_create: "已收到您的反映", step_registered: "已立案",
  step_dispatched: "已派给负责单位", step_in_progress: "正在处理", step_verifying: "处理完毕，正在现场核查", step_closed: "已办结",
  step_rework: "核查未通过，重新处理", step_rejected: "不予受理", step_follow: "又有居民反映了同一问题", step_urge: "已督办",
  step_evaluate: "已收到您的评价", step_merge: "与同一问题合并", step_repeat: "再次反映", step_suspend: "暂缓处理（挂账）",
  step_resume: "恢复处理", reply: "答复", said_satisfied: "您的评价：满意。谢谢！", said_unsatisfied: "您的评价：不满意。我们会再次核实。",
  photo: "照片", thanks_visit: "谢谢您的评价。", no_such_case: "没有这个编号的案件", overdue_by: "已超期", time_left: "剩余",
  to_verify: "核查", to_handle: "处置", nearest_first: "超期优先，其次离我最近", no_position: "超期优先（未获取位置，不按距离）",
  start_work: "开始处置", finish_work: "处置完成", verify_pass: "核查通过，结案", verify_fail: "不通过，返工", sent: "已发送",
  need_after_photo: "请至少拍一张处置后的照片", need_verify_note: "请填写不通过的原因", err_offline: "离线，且此内容未保存在手机上",
  err_too_large: "文件太大",
});

// --- the enterprise pages: search (企业猎搜), the cockpit, the daily push ---------------------------
Object.assign(EN, {
  cockpit_title: "Enterprise cockpit", cockpit_sign_in: "The enterprise cockpit needs a planner's or an admin's sign-in.",
  print_pdf: "Print PDF", generated_firms: "The register is generated demo data built to the published figures; street boundaries are real.",
  panorama: "Panorama", firms_total: "Firms", operating_firms: "Operating", founded_year: "Founded this year",
  closed_year: "Closed this year", moved_in_year: "Moved in this year", moved_out_year: "Moved out this year",
  pushes_since: "Pushes since launch", records_since: "Records since launch", per_street: "Operating firms per street",
  mix_26: "The 2+6 industry mix (operating)", flows_title: "Registrations, closings and moves per month",
  registered_firms: "Registered", closed_firms: "Deregistered or revoked", moved_in: "Moved in",
  separation_title: "Registered vs operating address", sep_separated: "Separated",
  sep_operating_outside: "Registered here, operating outside", sep_inside_elsewhere: "Inside, at another place",
  sep_registered_outside: "Registered outside, operating here", sep_both_outside: "Both outside",
  sep_same: "At its registered address", sep_unresolved: "Address to check", abnormal_title: "Abnormal operation (insured staff)",
  abnormal_count: "Sharp fall last month", abnormal_zero: "Down to none", abnormal_rule: "A fall of more than",
  growing_title: "Growing firms (to support)", growing_count: "Grown in a year", growing_rule: "Up on a year before by more than",
  year_ago: "A year before", people: "people", headcount_falling: "Insured staff falling sharply",
  headcount_growing: "Insured staff growing",
  registrar: "Registrar", any_registrar: "Any registrar", reg_city: "City", reg_district: "District",
  reg_other: "Another district", by_registrar: "This year's changes by registration authority (city / district)",
  firm: "Firm", before: "Month before", now: "Last month", heads_title: "Head firms of the 2+6 chains",
  chain: "Chain", headcount: "Insured staff", yoy_change: "Year on year", trend: "Last 12 months",
  firm_search: "Firm search", firm_q: "Name or credit code", industry_hint: "Industry code (I / 65 / 6513)",
  all_chains: "All chains", all_statuses: "All statuses", any_separation: "Any address relation",
  capital_range: "Capital (10k yuan)", founded_from: "Founded from", founded_to: "Founded to", clear: "Clear",
  credit_code: "Credit code", industry: "Industry", capital: "Capital (10k yuan)", founded: "Founded",
  separation: "Addresses", firms_matched: "firms", digest_title: "New and closed firms: the daily push",
  day_before: "Day before", day_after: "Day after", digest_empty: "Nothing was pushed that day.",
  change: "Change", visit: "Visit", mark_visited: "Mark visited", visited: "Visited", visit_note: "Note of the visit",
  enterprises_nav: "Enterprises",
});
Object.assign(ZH, {
  sep_operating_outside: "区内注册、区外经营", sep_inside_elsewhere: "区内注册、区内异址经营",
  sep_registered_outside: "区外注册、区内经营", sep_both_outside: "注册、经营均在区外",
  sep_same: "注册与经营地址一致", sep_unresolved: "地址待核实", sep_separated: "分离企业",
  reg_city: "市级", reg_district: "区级", reg_other: "外区",
  firms_matched: "家企业", mark_visited: "标记已走访", visited: "已走访", visit_note: "走访记录", change: "变动",
});
