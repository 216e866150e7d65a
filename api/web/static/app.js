// The planner's page: a thin client of the JSON API (/v1). Every figure shown comes from the
// API's answers; this script only asks, formats and draws. Labels are Chinese first, English
// beside them.
"use strict";

const $ = (id) => document.getElementById(id);
const KEY = "budgetopt.key";
const MAX_TRAY = 4;
const state = {
  scenarioId: null, version: null, doc: null, plan: null, curves: null,
  changes: [], label: "", tray: [], units: "yuan", charts: {}, splitTimer: null, splitSeq: 0,
};

// --- talking to the API ------------------------------------------------------------------------

function authHeaders(json) {
  const headers = {};
  if (json) headers["Content-Type"] = "application/json";
  const key = localStorage.getItem(KEY);
  if (key) headers.Authorization = `Bearer ${key}`;
  return headers;
}

async function problemOf(response) {
  let text = `HTTP ${response.status}`;
  try {
    const body = await response.json();
    text = body.detail || body.title || text;
    if (Array.isArray(body.errors) && body.errors.length) {
      text += "\n" + body.errors.map((e) => `• ${e.path}: ${e.message}`).join("\n");
    }
  } catch (_) { /* not JSON: keep the status */ }
  if (response.status === 401) text = `需要 API 密钥 (API key needed): ${text}`;
  const error = new Error(text);
  error.status = response.status;
  return error;
}

async function call(method, url, body) {
  const isForm = body instanceof FormData;
  const init = { method, headers: authHeaders(body !== undefined && !isForm) };
  if (isForm) init.body = body;
  else if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(url, init);
  if (!response.ok) throw await problemOf(response);
  return response;
}

const getJson = async (url) => (await call("GET", url)).json();

async function waitForJob(job) {
  // a large plan or a what-if runs as a job: poll it until it ends
  for (;;) {
    if (job.status === "succeeded") return job;
    if (job.status === "failed" || job.status === "cancelled") {
      throw new Error(`作业失败 (job ${job.status}): ${job.error || job.message}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 400));
    job = await getJson(`/v1/jobs/${job.id}`);
  }
}

async function planFrom(response) {
  const body = await response.json();
  if (response.status !== 202) return body;
  const job = await waitForJob(body);
  return getJson(job.links.plan);
}

async function download(method, url, body, filename) {
  const response = await call(method, url, body);
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 2000);
}

function showError(text) {
  $("error").textContent = text || "";
  $("error").hidden = !text;
}

let running = 0;
async function task(work) {
  showError("");
  running += 1;
  $("busy").hidden = false;
  try {
    return await work();
  } catch (error) {
    showError(error.message);
    return undefined;
  } finally {
    running -= 1;
    $("busy").hidden = running === 0;
  }
}

// --- numbers -----------------------------------------------------------------------------------

function money(value, decimals = 0) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  if (state.units === "wan") {
    const size = Math.abs(value);
    if (size >= 1e8) return `${(value / 1e8).toFixed(2)} 亿`;
    if (size >= 1e4) return `${(value / 1e4).toFixed(1)} 万`;
  }
  return value.toLocaleString("en-US", {
    minimumFractionDigits: decimals, maximumFractionDigits: decimals,
  });
}
const ratio = (v) => (v === null || v === undefined || !Number.isFinite(v) ? "—" : v.toFixed(2));
const count = (v) => (v === null || v === undefined ? "—" : Math.round(v).toLocaleString("en-US"));
const gapText = (v) => (v === null || v === undefined ? "—" : v.toExponential(1));
const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => (
  { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
// a difference with its sign; coloured good / bad only where more is better (GMV, ROAS, ...)
const signed = (text, value, moreIsBetter = true) => {
  const tone = moreIsBetter === null || !value ? "" : (value > 0) === moreIsBetter ? "pos" : "neg";
  return `<span class="${tone}">${value > 0 ? "+" : ""}${text}</span>`;
};

function nameOf(result, id) {
  return (result.names && result.names[id]) || id;
}

// --- scenarios ---------------------------------------------------------------------------------

async function loadScenarios(selectId) {
  const page = await getJson("/v1/scenarios?per_page=100");
  const select = $("scenario");
  select.innerHTML = page.items.map((s) =>
    `<option value="${escapeHtml(s.id)}">${escapeHtml(s.name)} (v${s.latest_version})</option>`).join("");
  if (selectId) select.value = selectId;
  if (!page.items.length) showError("还没有场景：请上传一个文件。No scenarios yet: upload a file.");
}

async function openScenario(id) {
  const scenario = await getJson(`/v1/scenarios/${encodeURIComponent(id)}`);
  state.scenarioId = scenario.id;
  state.version = scenario.latest.version;
  state.doc = scenario.latest.scenario;
  fillWhatIfControls(state.doc);
}

async function planBest() {
  await openScenario($("scenario").value);
  await makePlan([], "");
}

async function makePlan(changes, label) {
  const body = { version: state.version };
  if (changes.length) body.changes = changes;
  const response = await call(
    "POST", `/v1/scenarios/${encodeURIComponent(state.scenarioId)}/plans`, body);
  const plan = await planFrom(response);
  state.changes = changes;
  state.label = label;
  await showPlan(plan);
  addToTray(plan, label);
}

// --- the plan ----------------------------------------------------------------------------------

async function showPlan(plan) {
  state.plan = plan;
  const r = plan.result;
  $("plan").hidden = $("split").hidden = $("whatif").hidden = $("compare").hidden = false;
  const what = state.label ? ` · ${state.label}` : "";
  $("plan-title").textContent =
    `最优方案 Best plan — ${plan.scenario_name} v${plan.scenario_version ?? ""}${what}`;
  $("plan-message").textContent = `${plan.status}: ${r.message || ""}`;
  showWarnings(r.warnings || []);
  $("totals").innerHTML = totalsHtml(r);
  $("spend-table").innerHTML = spendTableHtml(r);
  $("rules-table").innerHTML = rulesHtml(r.rules || [], true, r.ranges);
  showRanges(r);
  drawPeriods(r);
  state.curves = plan.feasible ? await getJson(`/v1/plans/${plan.id}/curves`) : null;
  drawCurves();
  fillSplit(r);
}

// the objective's own total box, where a split's gap to the best plan is shown
const OBJECTIVE_BOX = { max_gmv: "GMV", max_profit: "Gross profit", max_new_customers: "New customers", min_spend: "Spend" };

function totalsHtml(r, gap) {
  const t = r.total || {};
  const bands = (r.ranges && r.ranges.total) || {};
  // with draws: each figure's P10 to P90 under it (for CAC the cautious end is P90)
  const band = (key, format) => (bands[key] ? `P10–P90 ${format(bands[key].p10)} – ${format(bands[key].p90)}` : "");
  const yuan2 = (v) => money(v, 2);
  const items = [
    ["成交额", "GMV", money(t.gmv_cny), "", band("gmv_cny", money)],
    ["媒介花费", "Spend", money(t.spend_cny), "", ""],
    ["ROAS", "ROAS", ratio(t.roas), "", band("roas", ratio)],
    ["获客成本", "CAC", money(t.cac_cny, 2), "", band("cac_cny", yuan2)],
    ["新客", "New customers", count(t.new_customers), "", ""],
    ["佣金", "Commission", money(t.commission_cny), "", ""],
  ];
  if (r.gross_profit_cny !== null && r.gross_profit_cny !== undefined) {
    items.push(["毛利", "Gross profit", money(r.gross_profit_cny), "", band("gross_profit_cny", money)]);
  }
  if (gap) {
    const box = items.find((item) => item[1] === OBJECTIVE_BOX[r.objective_kind]);
    if (box) box[3] = gap;
  }
  if (r.solver) items.push(["已证明差距", "Certified gap", gapText(r.solver.gap), "", ""]);
  return items.map(([zh, en, value, extra, range]) => `<div class="total"><div class="label">${zh} <span class="en">${en}</span></div>`
    + `<div class="value">${value}</div>${range ? `<div class="band">${range}</div>` : ""}`
    + `${extra ? `<div class="delta">${extra}</div>` : ""}</div>`).join("");
}

function spendTableHtml(r) {
  const periods = r.periods || [];
  const units = Object.keys(r.spend || {});
  const head = `<tr><th>渠道 Channel</th>${periods.map((p) => `<th>${escapeHtml(p)}</th>`).join("")}<th>合计 Total</th></tr>`;
  const rows = units.map((u) => {
    const cells = periods.map((p) => r.spend[u][p] || 0);
    const sum = cells.reduce((a, b) => a + b, 0);
    return `<tr><td>${escapeHtml(nameOf(r, u))}</td>${cells.map((v) => `<td class="n">${money(v)}</td>`).join("")}<td class="n sum">${money(sum)}</td></tr>`;
  });
  const columnSums = periods.map((p) => units.reduce((a, u) => a + (r.spend[u][p] || 0), 0));
  const all = columnSums.reduce((a, b) => a + b, 0);
  const foot = `<tr class="sum"><td>合计 Total</td>${columnSums.map((v) => `<td class="n">${money(v)}</td>`).join("")}<td class="n">${money(all)}</td></tr>`;
  return head + rows.join("") + foot;
}

function ruleValue(rule, value) {
  if (rule.kind === "cac_ceiling") return money(value, 2);
  return rule.kind === "roas_floor" || rule.kind === "commission_cap" && rule.limit < 1
    || rule.kind === "gmv_share" ? ratio(value) : money(value);
}

function rulesHtml(rules, bindingOnly, ranges) {
  const shown = rules.filter((rule) => (bindingOnly ? rule.binds : !rule.holds));
  if (!shown.length) {
    return `<tr><td class="muted">${bindingOnly ? "没有起作用的规则 No rule binds" : "全部规则满足 Every rule holds"}</td></tr>`;
  }
  // with draws: the share of draws in which each rule holds, beside the rule
  const odds = new Map(((ranges && ranges.rules) || []).map((o) => [o.name, o]));
  const head = "<tr><th>规则 Rule</th><th>说明 What it says</th><th>实际 Value</th><th>限制 Limit</th>"
    + "<th>放宽一单位的价值 Value of relaxing by one unit</th>"
    + `${ranges ? "<th>抽样中成立 Holds in draws</th>" : ""}</tr>`;
  return head + shown.map((rule) => `<tr class="${rule.holds ? "" : "broken"}"><td>${escapeHtml(rule.name)}</td>`
    + `<td>${escapeHtml(rule.description || "")}</td><td class="n">${ruleValue(rule, rule.value)}</td>`
    + `<td class="n">${escapeHtml(rule.sense || "")} ${ruleValue(rule, rule.limit)}</td>`
    + `<td class="n">${rule.value_of_relaxing === null || rule.value_of_relaxing === undefined ? "—" : money(rule.value_of_relaxing, 2)}</td>`
    + `${ranges ? `<td class="n">${odds.has(rule.name) ? oddsHtml(odds.get(rule.name).probability) : "—"}</td>` : ""}</tr>`).join("");
}

// --- ranges over the curves' draws -------------------------------------------------------------

function oddsText(p) {
  // never rounded to a certainty it is not
  if (p >= 1) return "100%";
  if (p <= 0) return "0%";
  const shown = Math.round(100 * p);
  if (shown >= 100) return ">99%";
  if (shown <= 0) return "<1%";
  return `${shown}%`;
}

function oddsHtml(p) {
  const tone = p >= 0.9 ? "high" : p >= 0.5 ? "mid" : "low";
  return `<span class="odds ${tone}">${oddsText(p)}</span>`;
}

const varies = (band) => Boolean(band) && band.p10 !== null && band.p90 !== null
  && band.p90 - band.p10 > 1e-9 * Math.max(Math.abs(band.p10), Math.abs(band.p90), 1);
const uncertain = (odds) => varies(odds.value) || (odds.probability > 0 && odds.probability < 1);

// a rule's measured value in a draw: shares and rates as percentages, else as the rule reads
function oddsValue(rule, value) {
  const share = rule.kind === "gmv_share" || (rule.kind === "commission_cap" && rule.name.endsWith(".rate"));
  if (share && value !== null && value !== undefined) return `${(100 * value).toFixed(1)}%`;
  return ruleValue(rule, value);
}

function showWarnings(warnings) {
  $("warnings").innerHTML = warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join("");
  $("warnings").hidden = !warnings.length;
}

function showRanges(r) {
  const ranges = r.ranges;
  $("ranges").hidden = !ranges;
  if (!ranges) return;
  $("ranges-title").textContent = `Ranges over ${ranges.draws} draws of the curves`;
  const t = r.total || {};
  const figures = [
    ["成交额 GMV", "gmv_cny", money, t.gmv_cny],
    ["ROAS", "roas", ratio, t.roas],
    ["获客成本 CAC", "cac_cny", (v) => money(v, 2), t.cac_cny],
    ["毛利 Gross profit", "gross_profit_cny", money, r.gross_profit_cny],
  ].filter(([, key]) => ranges.total[key]);
  $("bands-table").innerHTML = "<tr><th></th><th>P10</th><th>P50</th><th>P90</th><th>均值 Mean</th><th>方案 Plan</th></tr>"
    + figures.map(([title, key, format, own]) => {
      const band = ranges.total[key];
      return `<tr><td>${title}</td>${["p10", "p50", "p90", "mean"].map((p) => `<td class="n">${format(band[p])}</td>`).join("")}`
        + `<td class="n">${format(own)}</td></tr>`;
    }).join("");
  const byName = new Map((r.rules || []).map((rule) => [rule.name, rule]));
  const odds = (ranges.rules || []).slice().sort((a, b) => a.probability - b.probability);
  const moved = odds.filter(uncertain);
  $("odds-table").innerHTML = moved.length
    ? "<tr><th>规则 Rule</th><th>说明 What it says</th><th>抽样中成立 Holds in draws</th><th>实际值 P10–P90 Value</th></tr>"
      + moved.map((o) => {
        const rule = byName.get(o.name) || { kind: "", name: o.name };
        const value = o.value ? `${oddsValue(rule, o.value.p10)} – ${oddsValue(rule, o.value.p90)}` : "—";
        return `<tr><td>${escapeHtml(o.name)}</td><td>${escapeHtml(o.description || "")}</td>`
          + `<td class="n">${oddsHtml(o.probability)}</td><td class="n">${value}</td></tr>`;
      }).join("")
    : `<tr><td class="muted">抽样不影响任何规则 No rule depends on the draws</td></tr>`;
  const steady = odds.filter((o) => !uncertain(o));
  const broken = steady.filter((o) => o.probability < 1).map((o) => o.name);
  $("odds-steady").textContent = steady.length
    ? `另有 ${steady.length} 条规则不受抽样影响 ${steady.length} other rule(s) do not depend on the draws`
      + (broken.length ? `; broken in every draw: ${broken.join(", ")}` : ": they hold in every draw")
    : "";
  drawFan(r);
}

function drawFan(r) {
  const periods = r.periods || [];
  const bands = periods.map((p) => (r.ranges.by_period[p] || {}).gmv_cny || null);
  const at = (key) => bands.map((b) => (b ? millions(b[key]) : null));
  const low = at("p10");
  const high = at("p90");
  const plan = periods.map((p) => millions((r.by_period[p] || {}).gmv_cny || 0));
  const fan = "#2563eb";
  chart("chart-fan").setOption({
    textStyle: FONT,
    tooltip: {
      trigger: "axis",
      formatter: (items) => {
        const t = items[0].dataIndex;
        const b = bands[t];
        const line = (name, v) => `${name}: ${v === null || v === undefined ? "—" : money(v)}`;
        return [escapeHtml(periods[t]), line("P90", b && b.p90), line("P50", b && b.p50), line("P10", b && b.p10),
          line("方案 plan", (r.by_period[periods[t]] || {}).gmv_cny)].join("<br>");
      },
    },
    legend: { bottom: 0, data: ["P10–P90", "P50", "方案 plan"] },
    grid: { left: 70, right: 20, top: 30, bottom: 60 },
    xAxis: { type: "category", data: periods, boundaryGap: false },
    yAxis: { type: "value", name: "GMV 百万元 CNY million", scale: true },
    series: [
      { name: "P10", type: "line", stack: "fan", data: low, symbol: "none", lineStyle: { opacity: 0 }, silent: true },
      { name: "P10–P90", type: "line", stack: "fan", symbol: "none", color: fan,
        data: high.map((v, t) => (v === null || low[t] === null ? null : Math.round((v - low[t]) * 100) / 100)),
        lineStyle: { opacity: 0 }, areaStyle: { color: fan, opacity: 0.22 } },
      { name: "P50", type: "line", data: at("p50"), color: fan, lineStyle: { type: "dashed" }, symbolSize: 5 },
      { name: "方案 plan", type: "line", data: plan, color: "#c2410c", symbolSize: 6 },
    ],
  }, true);
}

// --- charts (ECharts, served by this service) --------------------------------------------------

function chart(id) {
  if (!state.charts[id]) state.charts[id] = echarts.init($(id), null, { renderer: "canvas" });
  return state.charts[id];
}

const millions = (v) => Math.round(v / 1e4) / 100; // CNY -> CNY million, 2 decimals
const FONT = { fontFamily: "Noto Sans SC, sans-serif" };

function channelOfUnit(r, unit) {
  const channels = Object.keys(r.by_channel || {});
  return channels.find((c) => unit === c || unit.startsWith(`${c}.`)) || unit;
}

function drawPeriods(r) {
  const periods = r.periods || [];
  const byChannel = {};
  for (const unit of Object.keys(r.spend || {})) {
    const channel = channelOfUnit(r, unit);
    byChannel[channel] = byChannel[channel] || periods.map(() => 0);
    periods.forEach((p, t) => { byChannel[channel][t] += r.spend[unit][p] || 0; });
  }
  chart("chart-periods").setOption({
    textStyle: FONT,
    tooltip: { trigger: "axis", valueFormatter: (v) => `${v.toLocaleString("en-US")} 百万元` },
    legend: { type: "scroll", bottom: 0 },
    grid: { left: 70, right: 20, top: 30, bottom: 60 },
    xAxis: { type: "category", data: periods },
    yAxis: { type: "value", name: "百万元 CNY million", axisLabel: { formatter: (v) => v.toLocaleString("en-US") } },
    series: Object.entries(byChannel).map(([c, values]) => ({
      name: nameOf(r, c), type: "bar", stack: "spend", data: values.map(millions),
    })),
  }, true);
}

function drawCurves() {
  const curves = state.curves ? state.curves.curves : [];
  const series = [];
  curves.forEach((c, i) => {
    const colour = `hsl(${(i * 67) % 360} 60% 42%)`;
    series.push({
      name: c.name, type: "line", showSymbol: false, color: colour,
      data: c.spend_cny.map((x, k) => [millions(x), millions(c.gmv_cny[k])]),
    });
    series.push({
      name: c.name, type: "scatter", symbolSize: 10, color: colour,
      data: [[millions(c.chosen_spend_cny), millions(c.chosen_gmv_cny)]],
      tooltip: { formatter: () => `${escapeHtml(c.name)}<br>花费 spend ${money(c.chosen_spend_cny)}<br>GMV ${money(c.chosen_gmv_cny)}` },
    });
  });
  chart("chart-curves").setOption({
    textStyle: FONT,
    tooltip: { trigger: "item" },
    legend: { type: "scroll", bottom: 0, data: curves.map((c) => c.name) },
    grid: { left: 70, right: 20, top: 30, bottom: 60 },
    xAxis: { type: "value", name: "年花费 百万元", nameLocation: "middle", nameGap: 26 },
    yAxis: { type: "value", name: "GMV 百万元 CNY million" },
    series,
  }, true);
}

// --- editing a split ---------------------------------------------------------------------------

function fillSplit(r) {
  const perPeriod = $("per-period").checked;
  const periods = r.periods || [];
  let html;
  if (perPeriod) {
    html = `<tr><th>渠道 Channel</th>${periods.map((p) => `<th>${escapeHtml(p)}</th>`).join("")}</tr>`
      + Object.keys(r.spend || {}).map((u) => `<tr><td>${escapeHtml(nameOf(r, u))}</td>${periods.map((p) =>
        `<td><input type="number" min="0" step="any" data-unit="${escapeHtml(u)}" data-period="${escapeHtml(p)}" value="${Math.round(r.spend[u][p] || 0)}"></td>`).join("")}</tr>`).join("");
  } else {
    html = "<tr><th>渠道 Channel</th><th>全年花费 Spend for the year (CNY)</th><th>最优 Best plan</th></tr>"
      + Object.entries(r.by_channel || {}).map(([c, m]) => `<tr><td>${escapeHtml(nameOf(r, c))}</td>`
        + `<td><input type="number" min="0" step="any" data-channel="${escapeHtml(c)}" value="${Math.round(m.spend_cny)}"></td>`
        + `<td class="n">${money(m.spend_cny)}</td></tr>`).join("");
  }
  $("split-table").innerHTML = html;
  $("spread").disabled = perPeriod;
  $("verdict").textContent = "";
  $("split-totals").innerHTML = "";
  $("split-rules").innerHTML = "";
}

function splitBody() {
  const body = { version: state.version, optimum_plan_id: state.plan.id };
  if (state.changes.length) body.changes = state.changes;
  if ($("per-period").checked) {
    const allocation = {};
    for (const input of $("split-table").querySelectorAll("input[data-unit]")) {
      allocation[input.dataset.unit] = allocation[input.dataset.unit] || {};
      allocation[input.dataset.unit][input.dataset.period] = Number(input.value || 0);
    }
    body.allocation = allocation;
  } else {
    body.split = {};
    for (const input of $("split-table").querySelectorAll("input[data-channel]")) {
      body.split[input.dataset.channel] = Number(input.value || 0);
    }
    body.spread = $("spread").value;
  }
  return body;
}

function scheduleEvaluation() {
  clearTimeout(state.splitTimer);
  state.splitTimer = setTimeout(() => task(evaluateSplit), 300);
}

async function evaluateSplit() {
  if (!state.plan) return;
  const seq = ++state.splitSeq;
  const response = await call(
    "POST", `/v1/scenarios/${encodeURIComponent(state.scenarioId)}/evaluations`, splitBody());
  const scored = await planFrom(response);
  if (seq !== state.splitSeq) return; // a newer edit has been sent meanwhile
  const r = scored.result;
  const comparison = r.comparison || {};
  let gap = "";
  if (comparison.objective_gap !== undefined) {
    // objective_gap > 0: the split is worse than the best plan (less GMV, or more spend)
    const spends = r.objective_kind === "min_spend";
    const change = spends ? comparison.objective_gap : -comparison.objective_gap;
    const format = r.objective_kind === "max_new_customers" ? count : money;
    const pct = Math.abs(comparison.optimum_objective) >= 1
      ? ` (${change > 0 ? "+" : change < 0 ? "-" : ""}${(100 * comparison.objective_gap_relative).toFixed(2)}%)` : "";
    const text = `${format(Math.abs(change))}${pct}`;
    gap = `与最优相比 vs best: ${signed(change < 0 ? `-${text}` : text, change > 0 ? 1 : change < 0 ? -1 : 0, !spends)}`;
  }
  $("verdict").textContent = r.verdict || "";
  $("split-totals").innerHTML = totalsHtml(r, gap);
  $("split-rules").innerHTML = rulesHtml(r.rules || [], false, r.ranges);
}

// --- linked what-ifs ---------------------------------------------------------------------------

function options(items, first) {
  return [`<option value="">${first}</option>`]
    .concat(items.map(([value, text]) => `<option value="${escapeHtml(value)}">${escapeHtml(text)}</option>`)).join("");
}

function fillWhatIfControls(doc) {
  const channels = doc.channels.map((c) => [c.id, c.name || c.id]);
  const priced = doc.channels.filter((c) => c.kind === "paid" || c.kind === "curve")
    .map((c) => [c.id, c.name || c.id]);
  $("wi-cpm-channel").innerHTML = options(priced, "全部渠道 every channel");
  $("wi-cpm-period").innerHTML = options(doc.periods.map((p) => [p, p]), "全部期间 every period");
  $("wi-off").innerHTML = options(channels, "不关闭 none");
  $("wi-rule").innerHTML = options(
    (doc.rules || []).map((rule, i) => [String(i), rule.id || `${rule.kind}[${i}]`]), "不放宽 none");
}

const LOOSEN = { // rule kind -> [field, direction]: a floor goes down, a ceiling goes up
  roas_floor: [["min_roas", -1]],
  cac_ceiling: [["max_cac_cny", 1]],
  commission_cap: [["max_rate", 1], ["max_total_cny", 1]],
  gmv_share: [["min_share", -1], ["max_share", 1]],
  spend_limit: [["min_cny", -1], ["max_cny", 1]],
  ramp_limit: [["max_change", 1], ["max_change_cny", 1]],
};

function perPeriod(value, n) {
  return Array.isArray(value) ? value.slice() : Array(n).fill(value ?? 1);
}

function cpmChanges(doc, factor, channelId, period) {
  const changes = [];
  const n = doc.periods.length;
  const t = period ? doc.periods.indexOf(period) : -1;
  for (const c of doc.channels) {
    if (channelId && c.id !== channelId) continue;
    if (c.kind === "curve") {
      const index = perPeriod(c.cpm_index, n).map((v, k) => (t < 0 || k === t ? v * factor : v));
      changes.push({ path: `channels[${c.id}].cpm_index`, op: "set", value: index });
    } else if (c.kind === "paid" && t < 0) {
      changes.push({ path: `channels[${c.id}].cpm.base_cny`, op: "scale", value: factor });
    } else if (c.kind === "paid") {
      const trend = c.cpm.trend;
      const factors = doc.periods.map((_, k) => {
        if (!trend) return 1;
        if (trend.type === "index") return trend.values[k];
        if (trend.type === "linear") return 1 + trend.rate_per_period * k;
        return (1 + trend.rate_per_period) ** k; // compound
      });
      factors[t] *= factor;
      changes.push({ path: `channels[${c.id}].cpm.trend`, op: "set", value: { type: "index", values: factors } });
    }
  }
  return changes;
}

function whatIfChanges(doc) {
  const changes = [];
  const words = [];
  const budget = Number($("wi-budget").value || 0);
  if (budget) {
    changes.push({ path: "budget.total_cny", op: "scale", value: 1 + budget / 100 });
    words.push(`预算 budget ${budget > 0 ? "+" : ""}${budget}%`);
  }
  const cpm = Number($("wi-cpm").value || 1);
  if (cpm !== 1) {
    const channel = $("wi-cpm-channel").value;
    const period = $("wi-cpm-period").value;
    changes.push(...cpmChanges(doc, cpm, channel, period));
    words.push(`CPM ×${cpm}${channel ? ` ${channel}` : ""}${period ? ` ${period}` : ""}`);
  }
  const points = Number($("wi-commission").value || 0);
  if (points) {
    for (const c of doc.channels.filter((x) => x.kind === "kol")) {
      changes.push({ path: `channels[${c.id}].tiers[*].commission_rate`, op: "shift", value: points / 100 });
    }
    words.push(`佣金 commission ${points > 0 ? "+" : ""}${points} pt`);
  }
  const off = $("wi-off").value;
  if (off) {
    // off = at most 0 CNY, with the channel's own minimums lifted so the plan stays possible
    const channel = doc.channels.find((c) => c.id === off);
    changes.push({ path: `channels[${off}].max_spend_cny`, op: "set", value: 0 });
    for (const field of ["min_spend_cny", "period_min_spend_cny", "locked_spend_cny"]) {
      const value = channel[field];
      if (value !== null && value !== undefined && value !== 0 && !(Array.isArray(value) && value.every((v) => v === 0))) {
        changes.push({ path: `channels[${off}].${field}`, op: "set", value: field === "locked_spend_cny" ? null : 0 });
      }
    }
    words.push(`关闭 off: ${off}`);
  }
  const ruleIndex = $("wi-rule").value;
  const pct = Number($("wi-rule-pct").value || 0);
  if (ruleIndex !== "" && pct) {
    const rule = doc.rules[Number(ruleIndex)];
    for (const [field, direction] of LOOSEN[rule.kind] || []) {
      if (rule[field] === null || rule[field] === undefined) continue;
      changes.push({ path: `rules[${ruleIndex}].${field}`, op: "scale", value: 1 + direction * pct / 100 });
    }
    words.push(`放宽 loosen ${rule.id || rule.kind} ${pct}%`);
  }
  return [changes, words.join(", ")];
}

async function runWhatIf() {
  const [changes, label] = whatIfChanges(state.doc);
  $("whatif-changes").textContent = changes.map((c) => `${c.path} ${c.op} ${JSON.stringify(c.value)}`).join("\n");
  if (!changes.length) throw new Error("没有改动 No change given: set at least one field.");
  await makePlan(changes, label);
}

// --- comparing ---------------------------------------------------------------------------------

function addToTray(plan, label) {
  if (state.tray.some((item) => item.id === plan.id)) return;
  state.tray.push({ id: plan.id, label: label || `${plan.scenario_name} v${plan.scenario_version ?? ""}` });
  while (state.tray.length > MAX_TRAY) state.tray.shift();
  drawTray();
}

function drawTray() {
  $("tray").innerHTML = state.tray.map((item, i) => `<li><span class="name">${String.fromCharCode(65 + i)}</span>`
    + `<span>${escapeHtml(item.label)}</span><span class="muted mono">${escapeHtml(item.id)}</span>`
    + `<button type="button" data-remove="${i}">移除 remove</button></li>`).join("");
}

const COMPARED = [ // metric, label, format, whether more of it is better (null: neither)
  ["gmv_cny", "成交额 GMV", money, true], ["spend_cny", "花费 Spend", money, null],
  ["roas", "ROAS", ratio, true], ["cac_cny", "获客成本 CAC", (v) => money(v, 2), false],
  ["new_customers", "新客 New customers", count, true],
  ["commission_cny", "佣金 Commission", money, null],
];

const BANDS_COMPARED = [
  ["gmv_p10_cny", "成交额 GMV P10", money, true], ["gmv_p50_cny", "成交额 GMV P50", money, true],
  ["gmv_p90_cny", "成交额 GMV P90", money, true],
  ["roas_p10", "ROAS P10", ratio, true], ["roas_p90", "ROAS P90", ratio, true],
];

function compareBody() {
  // each plan named by its letter in the tray and what it changed, in the table and the files
  const labels = state.tray.map((t, i) => `${String.fromCharCode(65 + i)}: ${t.label}`.slice(0, 100));
  return { plan_ids: state.tray.map((t) => t.id), labels };
}

async function comparePlans() {
  if (state.tray.length < 2) throw new Error("至少选两个方案 Put at least two plans in the comparison.");
  const data = await (await call("POST", "/v1/compare", compareBody())).json();
  const labels = data.labels;
  let html = `<tr><th>指标 Metric</th>${labels.map((l) => `<th>${escapeHtml(l)}</th>`).join("")}</tr>`;
  const row = (title, block, format, better) => `<tr><td>${title}</td>${block.values.map((v, i) =>
    `<td class="n">${format(v)}${i && block.delta[i] !== null ? `<br>${signed(format(block.delta[i]), block.delta[i], better)}` : ""}</td>`).join("")}</tr>`;
  for (const [key, title, format, better] of COMPARED) html += row(title, data.total[key], format, better);
  // with draws (some plan has ranges): each plan's GMV P10 / P50 / P90 and ROAS P10 / P90
  for (const [key, title, format, better] of BANDS_COMPARED) {
    if (data.total[key]) html += row(title, data.total[key], format, better);
  }
  for (const [channel, block] of Object.entries(data.by_channel)) {
    html += row(`${escapeHtml(nameOf(state.plan.result, channel))} 花费 spend`, block.spend_cny, money, null);
  }
  $("compare-table").innerHTML = html;
}

async function drawFrontier() {
  const body = { version: state.version, points: 12 };
  if (state.changes.length) body.changes = state.changes;
  const response = await call(
    "POST", `/v1/scenarios/${encodeURIComponent(state.scenarioId)}/frontiers`, body);
  const job = await waitForJob(await response.json());
  const result = await getJson(job.links.result);
  const points = result.points
    .filter((p) => p.point.metrics.feasible)
    .map((p) => [millions(p.budget_total_cny), millions(p.point.metrics.gmv_cny)]);
  const plan = state.plan.result;
  // with draws: each budget's GMV P10 to P90, shaded around the frontier
  const banded = result.points.filter((p) => p.point.metrics.feasible && p.point.metrics.gmv_p10_cny != null);
  const band = banded.length ? [
    { name: "P10", type: "line", stack: "band", symbol: "none", silent: true, lineStyle: { opacity: 0 },
      data: banded.map((p) => [millions(p.budget_total_cny), millions(p.point.metrics.gmv_p10_cny)]) },
    { name: "GMV P10–P90", type: "line", stack: "band", symbol: "none", lineStyle: { opacity: 0 },
      color: "#2563eb", areaStyle: { color: "#2563eb", opacity: 0.18 },
      data: banded.map((p) => [millions(p.budget_total_cny),
        Math.round((millions(p.point.metrics.gmv_p90_cny) - millions(p.point.metrics.gmv_p10_cny)) * 100) / 100]) },
  ] : [];
  chart("chart-frontier").setOption({
    textStyle: FONT,
    tooltip: { trigger: "item" },
    legend: { bottom: 0, data: ["前沿 frontier", "当前方案 current plan", ...(band.length ? ["GMV P10–P90"] : [])] },
    grid: { left: 70, right: 30, top: 30, bottom: 60 },
    xAxis: { type: "value", name: "总预算 百万元 Budget, CNY million", nameLocation: "middle", nameGap: 26, scale: true },
    yAxis: { type: "value", name: "GMV 百万元 CNY million", scale: true },
    series: [
      ...band,
      { name: "前沿 frontier", type: "line", data: points, color: "#243b53" },
      { name: "当前方案 current plan", type: "scatter", symbol: "path://M0,-10L3,-3L10,-3L4,2L6,10L0,5L-6,10L-4,2L-10,-3L-3,-3Z", symbolSize: 18, color: "#c2410c",
        data: [[millions(plan.budget_total_cny), millions(plan.total.gmv_cny)]] },
    ],
  }, true);
  const parts = [];
  if (result.below_one_cny !== null) {
    parts.push(`边际 ROAS 在总预算 ${money(result.below_one_cny)} 处低于 1 (marginal ROAS falls below 1 at this total budget)`);
  }
  if (result.below_floor_cny !== null) {
    parts.push(`在 ${money(result.below_floor_cny)} 处低于 ROAS 下限 ${ratio(result.roas_floor)} (below the ROAS floor)`);
  }
  if (result.below_one_cny === null) {
    parts.push("在此范围内边际 ROAS 未低于 1 (marginal ROAS does not fall below 1 within these budgets)");
  }
  $("frontier-summary").textContent = parts.concat(result.notes || []).join("; ");
}

// --- wiring ------------------------------------------------------------------------------------

function wire() {
  $("api-key").value = localStorage.getItem(KEY) || "";
  $("key-save").addEventListener("click", () => {
    const key = $("api-key").value.trim();
    if (key) localStorage.setItem(KEY, key); else localStorage.removeItem(KEY);
    $("scenario").innerHTML = ""; // another key may see another workspace
    task(() => loadScenarios());
  });
  $("plan-btn").addEventListener("click", () => task(planBest));
  $("upload").addEventListener("change", () => task(async () => {
    const file = $("upload").files[0];
    if (!file) return;
    const form = new FormData();
    form.append("file", file);
    const created = await (await call("POST", "/v1/scenarios/import", form)).json();
    $("upload").value = "";
    await loadScenarios(created.id);
    await planBest();
  }));
  $("units").addEventListener("change", () => {
    state.units = $("units").value;
    if (state.plan) task(() => showPlan(state.plan));
  });
  document.querySelectorAll("[data-download]").forEach((button) => button.addEventListener("click", () => task(async () => {
    const format = button.dataset.download;
    const url = format === "json" ? `/v1/plans/${state.plan.id}` : `/v1/plans/${state.plan.id}/export?format=${format}`;
    await download("GET", url, undefined, `${state.plan.id}.${format}`);
  })));
  document.querySelectorAll("[data-compare-download]").forEach((button) => button.addEventListener("click", () => task(async () => {
    if (state.tray.length < 2) throw new Error("至少选两个方案 Put at least two plans in the comparison.");
    const format = button.dataset.compareDownload;
    await download("POST", `/v1/compare?format=${format}`, compareBody(), `comparison.${format}`);
  })));
  $("to-tray").addEventListener("click", () => addToTray(state.plan, state.label));
  $("tray").addEventListener("click", (event) => {
    const index = event.target.dataset && event.target.dataset.remove;
    if (index !== undefined) { state.tray.splice(Number(index), 1); drawTray(); }
  });
  $("split-table").addEventListener("input", scheduleEvaluation);
  $("spread").addEventListener("change", scheduleEvaluation);
  $("per-period").addEventListener("change", () => { fillSplit(state.plan.result); });
  $("split-reset").addEventListener("click", () => fillSplit(state.plan.result));
  $("whatif-btn").addEventListener("click", () => task(runWhatIf));
  $("compare-btn").addEventListener("click", () => task(comparePlans));
  $("frontier-btn").addEventListener("click", () => task(drawFrontier));
  window.addEventListener("resize", () => Object.values(state.charts).forEach((c) => c.resize()));
  task(() => loadScenarios());
}

document.addEventListener("DOMContentLoaded", wire);
