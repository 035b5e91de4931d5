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
  cancel: "Cancel", located: "Located", district: "District", micro_grid: "Micro-grid", worker: "Grid worker",
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
  sign_out: "退出", located: "定位结果", district: "区", micro_grid: "微网格", worker: "网格员",
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
