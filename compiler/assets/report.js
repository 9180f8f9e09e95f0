
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("llmarch-data").textContent);
  var L = data.layout, P = data.params, CATS = data.categories;
  var NROWS = data.rows.length, NFIXED = data.fixed.length;
  var names = data.rows.map(function (r) { return r.name; }).concat(data.fixed.map(function (f) { return f.name; }));
  var initial = P.map(function (p) { return p.value; });
  var values = initial.slice();
  var overridden = P.map(function () { return 0; });

  // --- number formats: the same as compiler/report.py and the CLI's tables ---
  function group(s) {
    var neg = s.charAt(0) === "-";
    if (neg) { s = s.slice(1); }
    var dot = s.indexOf("."), whole = dot < 0 ? s : s.slice(0, dot), frac = dot < 0 ? "" : s.slice(dot);
    var out = "";
    while (whole.length > 3) { out = "," + whole.slice(-3) + out; whole = whole.slice(0, -3); }
    return (neg ? "-" : "") + whole + out + frac;
  }
  // x to `d` decimals as Python's format() writes it: toFixed rounds an exact tie (998912.5)
  // up, Python to the even neighbour (998912)
  function fixed(x, d) {
    var shown = x.toFixed(d);
    if (!isFinite(x) || d > 70) { return shown; }
    var exact = Math.abs(x).toFixed(d + 30), tail = exact.slice(-30);
    if (!/^50*$/.test(tail)) { return shown; }
    var down = exact.slice(0, -30).replace(/\.$/, "");
    if (+down.charAt(down.length - 1) % 2 === 1) { return shown; }
    return (x < 0 && /[1-9]/.test(down) ? "-" : "") + down;
  }
  // money as compiler/present.py writes it: a real minus sign (never on a figure that shows
  // as zero), and per request below $0.0001 three significant digits, never exponents
  var MINUS = "\u2212";
  function infinite(x) { return x !== x ? "n/a" : (x > 0 ? "" : MINUS) + "\u221e"; }
  function signed(x, shown) { return x < 0 && /[1-9]/.test(shown) ? MINUS + shown : shown; }
  function significant(a, digits) { return fixed(a, Math.max(0, digits - 1 - Math.floor(Math.log10(a)))); }
  function usd(x, small) {
    if (!isFinite(x)) { return infinite(x); }
    if (Math.abs(x) < 1e-15) { x = 0; }
    var a = Math.abs(x);
    if (small && a > 0 && a < 1e-4) { return signed(x, "$" + group(significant(a, 3))); }
    return signed(x, "$" + group(fixed(a, small ? 6 : 2)));
  }
  function usd0(x) {
    if (!isFinite(x)) { return infinite(x); }
    if (Math.abs(x) < 1e-15) { x = 0; }
    return signed(x, "$" + group(fixed(Math.abs(x), 0)));
  }
  function strip(s) { return s.indexOf(".") < 0 ? s : s.replace(/0+$/, "").replace(/\.$/, ""); }
  function g4(x) {
    if (x !== x) { return "nan"; }
    if (!isFinite(x)) { return x > 0 ? "inf" : "-inf"; }
    if (x === 0) { return (1 / x < 0) ? "-0" : "0"; }
    var e = x.toExponential(3), k = e.indexOf("e"), exp = parseInt(e.slice(k + 1), 10);
    if (exp < -4 || exp >= 4) {
      var digits = Math.abs(exp) < 10 ? "0" + Math.abs(exp) : String(Math.abs(exp));
      return strip(e.slice(0, k)) + "e" + (exp < 0 ? "-" : "+") + digits;
    }
    return strip(fixed(x, 3 - exp));
  }
  function pct(x) { return fixed(100 * x, 1) + "%"; }
  function pct4(x) { return fixed(100 * x, 4) + "%"; }
  function count(x) { return isFinite(x) ? group(fixed(x, 0)) : "\u221e"; }
  // expected visits as present.count: four significant digits, never an exponent
  function visits(x) {
    if (!isFinite(x)) { return infinite(x); }
    if (Math.abs(x) < 1e-15) { x = 0; }
    if (x === 0) { return "0"; }
    var a = Math.abs(x);
    if (a >= 10000) { return signed(x, group(fixed(a, 0))); }
    return signed(x, strip(significant(a, 4)));
  }
  function plain(x) {
    if (!isFinite(x)) { return g4(x); }
    if (Math.abs(x) >= 1000) { return group(fixed(x, x === Math.trunc(x) ? 0 : 1)); }
    return g4(x);
  }
  function paramText(x, p) {
    if (p.share) { return g4(100 * x) + "%"; }
    return plain(x) + (p.unit ? " " + p.unit : "");
  }
  function duration(x) {
    if (Math.abs(x) < 1e-15) { x = 0; }
    var a = Math.abs(x), units = [["h", 3600], ["min", 60], ["s", 1]];
    if (!isFinite(x)) { return g4(x); }
    if (a === 0) { return "0 s"; }
    var sign = x < 0 ? "\u2212" : "";
    for (var u = 0; u < units.length; u++) {
      if (a >= units[u][1]) { return sign + strip(significant(a / units[u][1], 3)) + " " + units[u][0]; }
    }
    return sign + strip(significant(1000 * a, 3)) + " ms";
  }
  // a change of time as present.signed_duration: "+0.43 s", "−120 ms", "0 s"
  function signedDuration(x) {
    var shown = duration(x);
    return Math.abs(x) < 1e-15 || shown.charAt(0) === MINUS ? shown : "+" + shown;
  }
  // present.number: up to `digits` significant digits, never an exponent, grouped from 10,000
  function number(x, digits) {
    if (x !== x) { return ""; }
    if (!isFinite(x)) { return infinite(x); }
    if (Math.abs(x) < 1e-15) { x = 0; }
    if (x === 0) { return "0"; }
    var text = strip(significant(Math.abs(x), digits));
    if (Math.abs(x) >= 10000) { text = group(text); }
    return (text === "0" || x > 0 ? "" : MINUS) + text;
  }
  function budgetText(kind, x) {
    if (kind === "share") { return g4(100 * x) + "%"; }
    if (kind === "time") { return duration(x); }
    return usd(x, kind === "per_request") + (kind === "monthly" ? " a month" : "");
  }

  // --- the model ---
  function monthlyOf(s) {
    var fixed = 0;
    for (var c = 0; c < CATS.length; c++) { fixed += s[L.fixed_by_category + c]; }
    return s[L.totals + 2] * s[L.totals] + fixed;
  }
  function compute(vals, ov) {
    var s = _evaluate(vals, ov, 1), h = _evaluate(vals, ov, 0);
    var cpr = s[L.totals], ps = s[L.totals + 1], rpm = s[L.totals + 2];
    var fixed = 0, fixedByCat = [];
    for (var c = 0; c < CATS.length; c++) { fixedByCat.push(s[L.fixed_by_category + c]); fixed += fixedByCat[c]; }
    var monthly = rpm * cpr + fixed, happyCpr = h[L.totals];
    var r = {
      cost_per_request: cpr, p_success: ps, requests_per_month: rpm, monthly_total: monthly, fixed_monthly: fixed,
      cost_per_success: ps > 0 ? cpr / ps : Infinity, happy_path_cost_per_request: happyCpr,
      happy_path_monthly: rpm * happyCpr + fixed, byCat: [], rows: [],
      params: s.slice(L.params, L.params + L_size("params")), checks: s.slice(L.checks, L.checks + L_size("checks"))
    };
    r.latency = L_size("latency") ? s[L.latency] : null;
    if (r.latency !== null) {
      r.happy_latency = h[L.latency];
      r.latency_std_dev = stdDev(s[L.latency_variance], r.latency);
      r.happy_latency_std_dev = stdDev(h[L.latency_variance], r.happy_latency);
    }
    r.failure_overhead_per_request = cpr - happyCpr;
    r.failure_overhead_monthly = monthly - r.happy_path_monthly;
    r.failure_overhead_share = cpr ? r.failure_overhead_per_request / cpr : 0;
    for (c = 0; c < CATS.length; c++) { r.byCat.push(s[L.by_category + c] * rpm + fixedByCat[c]); }
    for (var i = 0; i < NROWS; i++) {
      var v = s[L.visits + i], cost = s[L.cost + i], perReq = v * cost;
      r.rows.push({ i: i, visits: v, per_visit: cost, per_request: perReq, monthly: perReq * rpm,
                    share: monthly ? perReq * rpm / monthly : 0, happy: h[L.visits + i] * h[L.cost + i],
                    latency: r.latency === null ? null : s[L.row_latency + i],
                    happy_latency: r.latency === null ? null : h[L.row_latency + i] });
    }
    for (var j = 0; j < NFIXED; j++) {
      var amount = s[L.fixed + j];
      r.rows.push({ i: NROWS + j, visits: null, per_visit: null, per_request: null, monthly: amount,
                    share: monthly ? amount / monthly : 0, happy: null });
    }
    if (data.capacity) { r.capacity = capacityOf(s, r); }
    return r;
  }
  function L_size(name) { return data.layout_sizes ? data.layout_sizes[name] : 0; }
  // results.py's _std_dev: a variance that rounding makes slightly negative is 0
  function stdDev(variance, mean) { return variance <= 1e-12 * Math.max(1, mean * mean) ? 0 : Math.sqrt(variance); }

  // --- capacity: every column of a limit row, from the traffic (requests a day), what one
  // request asks of the limit and the limit itself (compiler/capacity.py's LimitRow) ---
  function limitRow(perDay, perRequest, value, info) {
    var peak = data.capacity.peak;
    var mean = info.limit === "concurrency" ? perDay / 86400 * perRequest : perDay / 1440 * perRequest;
    var peakDemand = mean * peak;
    return { model: info.model, limit: info.limit, value: value, per_request: perRequest, mean_demand: mean,
             peak_demand: peakDemand, mean_utilisation: mean / value, peak_utilisation: peakDemand / value,
             headroom: value - peakDemand,
             throttled_share: peakDemand > 0 ? Math.max(0, 1 - value / peakDemand) : 0,
             binds_at: peakDemand > 0 ? perDay * value / peakDemand : null };
  }
  function capacityOf(s, r) {
    var c = data.capacity, perDay = s[L.traffic], perSecond = perDay / 86400;
    var out = { traffic: perDay, peak_traffic: perDay * c.peak, binding: null, in_flight: [] };
    out.limits = c.limits.map(function (info, k) {
      return limitRow(perDay, s[L.limit_amounts + k], s[L.limit_values + k], info);
    });
    out.limits.forEach(function (x) {
      if (x.binds_at !== null && (out.binding === null || x.binds_at < out.binding.binds_at)) { out.binding = x; }
    });
    if (r.latency !== null) {
      c.in_flight.forEach(function (i) {
        var seconds = i === null ? null : r.rows[i].latency;
        out.in_flight.push(seconds === null ? null
          : { seconds: seconds, mean: perSecond * seconds, peak: c.peak * perSecond * seconds });
      });
      out.in_flight.push({ seconds: r.latency, mean: perSecond * r.latency, peak: c.peak * perSecond * r.latency });
    }
    return out;
  }

  // --- the page ---
  function all(selector) { return Array.prototype.slice.call(document.querySelectorAll(selector)); }
  var figs = {};
  all("[data-fig]").forEach(function (el) {
    var k = el.getAttribute("data-fig");
    (figs[k] = figs[k] || []).push(el);
  });
  function setText(el, text, value) {
    if (!el) { return; }
    if (el.lmText !== text) { el.textContent = text; el.lmText = text; }
    if (value !== undefined && value !== null) { el.setAttribute("data-value", String(value)); }
  }
  function fig(name, value, text) { (figs[name] || []).forEach(function (el) { setText(el, text, value); }); }
  // every element a recomputation writes to, found once
  function cells(tr) {
    var out = { tr: tr };
    Array.prototype.forEach.call(tr.querySelectorAll("[data-col]"), function (td) { out[td.getAttribute("data-col")] = td; });
    return out;
  }
  var rowEls = [], overheadEls = [], budgetEls = [], pvEls = [], outEls = [], inputEls = [];
  all("tr[data-row]").forEach(function (tr) { rowEls[+tr.getAttribute("data-row")] = cells(tr); });
  all("tr[data-o]").forEach(function (tr) { overheadEls[+tr.getAttribute("data-o")] = cells(tr); });
  all("tr[data-b]").forEach(function (tr) { budgetEls[+tr.getAttribute("data-b")] = cells(tr); });
  var limitEls = [], flightEls = [], latencyBar = data.geometry.latency;
  all("tr[data-lim]").forEach(function (tr) { limitEls[+tr.getAttribute("data-lim")] = cells(tr); });
  all("tr[data-fl]").forEach(function (tr) { flightEls[+tr.getAttribute("data-fl")] = cells(tr); });
  var latencySlots = all("g[data-l]").map(function (g) {
    return { g: g, sys: g.querySelector("[data-l-sys]"), happy: g.querySelector("[data-l-happy]"),
             name: g.querySelector("[data-l-name]"), text: g.querySelector("[data-l-text]") };
  });
  all("[data-pv]").forEach(function (el) { pvEls[+el.getAttribute("data-pv")] = el; });
  all("[data-out]").forEach(function (el) { outEls[+el.getAttribute("data-out")] = el; });
  all("input[type=range][data-p]").forEach(function (el) { inputEls[+el.getAttribute("data-p")] = el; });
  var barEls = all("[data-bar]"), barTextEls = all("[data-bar-text]");
  var lastOverheadOrder = all("tr[data-o]").map(function (tr) { return tr.getAttribute("data-o"); }).join(",");
  function byName(key) {
    return function (a, b) {
      var d = key(b) - key(a);
      if (d) { return d; }
      return names[a.i] < names[b.i] ? -1 : names[a.i] > names[b.i] ? 1 : 0;
    };
  }
  var topBody = document.getElementById("lm-rows-top"), moreBody = document.getElementById("lm-rows-more");
  var overheadBody = document.getElementById("lm-overhead"), overheadMore = document.getElementById("lm-overhead-more");

  function showSummary(r) {
    ["monthly_total", "fixed_monthly", "happy_path_monthly", "failure_overhead_monthly"].forEach(function (k) {
      fig(k, r[k], usd(r[k]));
    });
    ["cost_per_request", "cost_per_success", "happy_path_cost_per_request", "failure_overhead_per_request"].forEach(
      function (k) { fig(k, r[k], usd(r[k], true)); });
    fig("p_success", r.p_success, pct4(r.p_success));
    fig("requests_per_month", r.requests_per_month, count(r.requests_per_month));
    fig("failure_overhead_share", r.failure_overhead_share, pct(r.failure_overhead_share));
  }
  function showVectors(r) {
    var g = data.geometry.bar, area = g.width - g.label - g.text, top = 0;
    r.byCat.forEach(function (v) { if (isFinite(v) && v > top) { top = v; } });
    r.byCat.forEach(function (v, k) {
      var w = top > 0 && isFinite(v) && v > 0 ? area * v / top : 0;
      if (barEls[k]) { barEls[k].setAttribute("width", w.toFixed(2)); }
      setText(barTextEls[k], usd(v) + " \u00b7 " + (r.monthly_total ? pct(v / r.monthly_total) : "0.0%"));
    });
  }
  // Only rows on screen are written: the top rows always, the folded ones while their
  // <details> is open (and once when it opens). Writing a thousand rows on every slider
  // step is what made big reports slow, not the model. Python writes the rows it shows;
  // a row that moves into view later is made here, from the data block, as text.
  function td(cls, col) {
    var el = document.createElement("td");
    if (cls) { el.className = cls; }
    if (col) { el.setAttribute("data-col", col); }
    return el;
  }
  function nameCell(text, label) {
    var cell = td("name"), code = document.createElement("code");
    code.textContent = text;
    cell.appendChild(code);
    if (label) {
      var div = document.createElement("div");
      div.className = "label";
      div.textContent = label;
      cell.appendChild(div);
    }
    return cell;
  }
  function makeRow(i) {
    var info = i < NROWS ? data.rows[i] : data.fixed[i - NROWS], tr = document.createElement("tr");
    tr.setAttribute("data-row", String(i));
    tr.appendChild(nameCell(info.name, info.label));
    var kind = td();
    kind.textContent = i < NROWS ? info.kind : "fixed";
    tr.appendChild(kind);
    var category = td(), dot = document.createElement("span");
    dot.className = "dot " + info.category;
    category.appendChild(dot);
    category.appendChild(document.createTextNode(info.category));
    tr.appendChild(category);
    ["visits", "per_visit", "per_request", "monthly", "share"].forEach(function (c) { tr.appendChild(td("num", c)); });
    rowEls[i] = cells(tr);
    return rowEls[i];
  }
  function makeOverheadRow(i) {
    var tr = document.createElement("tr"), cell = td(), code = document.createElement("code");
    tr.setAttribute("data-o", String(i));
    code.textContent = data.rows[i].name;
    cell.appendChild(code);
    tr.appendChild(cell);
    ["happy", "system", "overhead", "monthly", "share"].forEach(function (c) { tr.appendChild(td("num", c)); });
    overheadEls[i] = cells(tr);
    return overheadEls[i];
  }
  function fill(body, trs) {
    var frag = document.createDocumentFragment();
    trs.forEach(function (tr) { frag.appendChild(tr); });
    while (body.firstChild) { body.removeChild(body.firstChild); }
    body.appendChild(frag);
  }
  function orderOf(selector) {
    return all(selector).map(function (tr) { return tr.getAttribute("data-row"); }).join(",");
  }
  var moreBox = document.getElementById("lm-more"), lastResult = null;
  var topRows = orderOf("#lm-rows-top tr[data-row]"), moreRows = orderOf("#lm-rows-more tr[data-row]");
  function writeRow(x) {
    var c = rowEls[x.i] || makeRow(x.i);
    if (x.visits !== null) {
      setText(c.visits, visits(x.visits), x.visits);
      setText(c.per_visit, usd(x.per_visit, true), x.per_visit);
      setText(c.per_request, usd(x.per_request, true), x.per_request);
    }
    setText(c.monthly, usd(x.monthly), x.monthly);
    setText(c.share, pct(x.share), x.share);
  }
  function place(body, rows, previous) {
    var order = rows.map(function (x) { return x.i; }).join(",");
    if (order === previous) { return order; }
    fill(body, rows.map(function (x) { return rowEls[x.i].tr; }));
    return order;
  }
  function showMore() {
    if (!moreBody || !moreBox.open || !lastResult) { return; }
    var rows = lastResult.slice(data.table_rows, data.table_rows + data.folded_rows);
    rows.forEach(writeRow);
    moreRows = place(moreBody, rows, moreRows);
  }
  function showComponents(r) {
    var rows = r.rows.slice().sort(byName(function (x) { return x.monthly; }));
    lastResult = rows;
    var top = rows.slice(0, moreBody ? data.table_rows : rows.length);
    top.forEach(writeRow);
    var before = topRows;
    topRows = place(topBody, top, topRows);
    if (before !== topRows) { moreRows = ""; }   // the folded rows change with the top ones
    showMore();
  }
  if (moreBox) { moreBox.addEventListener("toggle", showMore); }
  function showOverhead(r) {
    var cpr = r.cost_per_request, flow = r.rows.slice(0, NROWS);
    flow.forEach(function (x) { x.overhead = x.per_request - x.happy; });
    var kept = flow.filter(function (x) { return Math.abs(x.overhead) >= 1e-15; });
    kept.sort(byName(function (x) { return x.overhead; }));
    var shown = kept.slice(0, data.overhead_rows);
    shown.forEach(function (x) {
      var c = overheadEls[x.i] || makeOverheadRow(x.i);
      setText(c.happy, usd(x.happy, true), x.happy);
      setText(c.system, usd(x.per_request, true), x.per_request);
      setText(c.overhead, usd(x.overhead, true), x.overhead);
      setText(c.monthly, usd(x.overhead * r.requests_per_month), x.overhead * r.requests_per_month);
      setText(c.share, cpr ? pct(x.overhead / cpr) : "");
    });
    var order = shown.map(function (x) { return x.i; }).join(",");
    if (overheadBody && order !== lastOverheadOrder) {
      lastOverheadOrder = order;
      fill(overheadBody, shown.map(function (x) { return overheadEls[x.i].tr; }));
    }
    if (overheadMore) {
      var more = Math.max(0, kept.length - data.overhead_rows);
      setText(overheadMore, more ? count(more) + " more components with a smaller overhead"
        : (kept.length ? "" : " (none: no component has a failure overhead here)"));
    }
  }
  function showBudgets(r) {
    data.budgets.forEach(function (b, k) {
      var c = budgetEls[k];
      if (!c) { return; }
      var value = { monthly_total: r.monthly_total, cost_per_request: r.cost_per_request,
                    cost_per_success: r.cost_per_success, p_success: r.p_success,
                    failure_overhead: r.failure_overhead_share, latency: r.latency }[b.metric];
      if (value === undefined) { value = r.byCat[CATS.indexOf(b.metric.slice(8))]; }
      var margin = (b.op === "<" || b.op === "<=") ? b.limit - value : value - b.limit;
      var holds = b.op === "<" ? value < b.limit : b.op === "<=" ? value <= b.limit
        : b.op === ">" ? value > b.limit : value >= b.limit;
      setText(c.value, budgetText(b.kind, value), value);
      setText(c.margin, budgetText(b.kind, margin));
      setText(c.verdict, holds ? "holds" : "does not hold");
      c.tr.setAttribute("class", holds ? "ok" : "bad");
    });
  }
  function showLatency(r) {
    if (r.latency === null) { return; }
    var overhead = r.latency - r.happy_latency, share = r.latency ? overhead / r.latency : 0;
    fig("latency_per_request", r.latency, duration(r.latency));
    fig("latency_std_dev", r.latency_std_dev, duration(r.latency_std_dev));
    fig("happy_path_latency_per_request", r.happy_latency, duration(r.happy_latency));
    fig("happy_path_latency_std_dev", r.happy_latency_std_dev, duration(r.happy_latency_std_dev));
    fig("latency_overhead", overhead, signedDuration(overhead));
    fig("latency_overhead_share", share, pct(share));
    var slots = latencySlots;
    if (!slots.length) { return; }
    var rows = r.rows.slice(0, NROWS).filter(function (x) { return x.latency || x.happy_latency; });
    rows.sort(byName(function (x) { return x.latency; }));
    rows = rows.slice(0, slots.length);
    var top = 0;
    rows.forEach(function (x) {
      [x.latency, x.happy_latency].forEach(function (v) { if (isFinite(v) && v > top) { top = v; } });
    });
    function width(v) { return (top > 0 && isFinite(v) && v > 0 ? area * v / top : 0).toFixed(2); }
    var area = latencyBar.width - latencyBar.label - latencyBar.text;
    slots.forEach(function (slot, k) {
      var x = rows[k];
      if (!x) { slot.g.setAttribute("visibility", "hidden"); setText(slot.name, ""); setText(slot.text, ""); return; }
      slot.g.removeAttribute("visibility");
      slot.sys.setAttribute("width", width(x.latency));
      slot.happy.setAttribute("width", width(x.happy_latency));
      setText(slot.name, names[x.i]);
      setText(slot.text, duration(x.latency) + " \u00b7 "
        + (r.latency ? pct(x.latency / r.latency) : "0.0%") + " (happy path " + duration(x.happy_latency) + ")");
    });
  }
  function perRequestText(x, info) {
    if (info.per === "call-seconds") { return duration(x.per_request) + " of calls"; }
    var shown = visits(x.per_request);
    return shown + " " + (info.per === "calls" && shown === "1" ? "call" : info.per);
  }
  function bindingSentence(c) {
    var b = c.binding;
    if (b === null) {
      return data.capacity.limits.length ? "No limit is ever reached: the flow calls no model with a limit."
        : "No model declares a provider limit.";
    }
    var over = b.peak_demand > b.value ? "over the limit already"
      : (c.traffic > 0 ? number(b.binds_at / c.traffic, 3) + "x today's mean" : "no traffic today");
    return b.model + " " + b.limit + " binds first: at " + visits(b.binds_at) + " requests/day mean traffic ("
      + over + "); " + pct(b.throttled_share) + " of its peak demand is throttled now.";
  }
  function showCapacity(r) {
    var c = r.capacity;
    if (!c) { return; }
    fig("traffic_mean", c.traffic, visits(c.traffic));
    fig("traffic_peak", c.peak_traffic, visits(c.peak_traffic));
    c.limits.forEach(function (x, k) {
      var el = limitEls[k], info = data.capacity.limits[k];
      if (!el) { return; }
      setText(el.value, visits(x.value) + " " + info.unit, x.value);
      setText(el.per_request, perRequestText(x, info), x.per_request);
      setText(el.mean, visits(x.mean_demand), x.mean_demand);
      setText(el.peak, visits(x.peak_demand), x.peak_demand);
      setText(el.use, pct(x.peak_utilisation), x.peak_utilisation);
      setText(el.headroom, visits(x.headroom), x.headroom);
      setText(el.throttled, pct(x.throttled_share), x.throttled_share);
      setText(el.binds, x.binds_at === null ? "never" : visits(x.binds_at) + " requests/day",
              x.binds_at === null ? -1 : x.binds_at);
      if (x.peak_utilisation >= 1) { el.tr.setAttribute("class", "bad"); } else { el.tr.removeAttribute("class"); }
    });
    fig("binding", c.binding === null ? -1 : c.binding.binds_at, bindingSentence(c));
    c.in_flight.forEach(function (x, k) {
      var el = flightEls[k];
      if (!el || x === null) { return; }
      setText(el.seconds, duration(x.seconds), x.seconds);
      setText(el.mean, visits(x.mean), x.mean);
      setText(el.peak, visits(x.peak), x.peak);
    });
  }
  function showParams(r) {
    P.forEach(function (p, k) {
      var value = r.params[k];
      setText(pvEls[k], plain(value), value);
      if (p.slider && !p.input && !overridden[k]) {
        if (inputEls[k]) { inputEls[k].value = String(value); }
        setText(outEls[k], paramText(value, p));
      }
    });
  }
  function showProblems(r) {
    var problems = [];
    data.checks.forEach(function (c, k) {
      var v = r.checks[k];
      if (!isFinite(v)) { problems.push(c.what + " is not a finite number"); }
      else if (c.kind === "probability_sum" && v > 1 + 1e-9) { problems.push(c.what + " add up to " + g4(v) + ", more than 1"); }
      else if (c.kind === "probability" && (v < -1e-9 || v > 1 + 1e-9)) {
        problems.push(c.what + " is " + g4(v) + "; a probability must be between 0 and 1");
      } else if (c.kind === "nonnegative" && v < -1e-9) { problems.push(c.what + " is negative (" + g4(v) + ")"); }
      else if (c.kind === "positive" && !(v > 0)) { problems.push(c.what + " is " + g4(v) + "; it must be more than 0"); }
    });
    if (!isFinite(r.monthly_total) || !isFinite(r.cost_per_request)) {
      problems.push("the model is not a finite number at these values (a loop that never exits?)");
    }
    var box = document.getElementById("lm-invalid"), list = box.querySelector("ul");
    while (list.firstChild) { list.removeChild(list.firstChild); }
    problems.forEach(function (text) { var li = document.createElement("li"); li.textContent = text; list.appendChild(li); });
    if (problems.length) { box.removeAttribute("hidden"); } else { box.setAttribute("hidden", ""); }
  }

  // --- tornado and projection ---
  // a parameter's range in the tornado, as compiler/analysis.py's Analyzer._range: the
  // declared one, else ±20% of its value (kept within [0, 1] for a share)
  function tornadoRange(k) {
    var p = P[k], v = values[k];
    var lo = p.low !== null ? p.low : v * 0.8, hi = p.high !== null ? p.high : v * 1.2;
    var a = Math.min(lo, hi), b = Math.max(lo, hi);
    if (p.low === null && p.high === null && p.dimensionless && v >= 0 && v <= 1) { a = Math.max(a, 0); b = Math.min(b, 1); }
    return [a, b];
  }
  function showTornado(base) {
    if (!data.tornado) { return; }
    var g = data.geometry.tornado, area = g.width - g.label - g.text, center = g.label + area / 2;
    var items = data.tornado.map(function (t) { return { p: t.p, low: t.low, high: t.high }; });
    P.forEach(function (p, k) {
      if (!p.input && overridden[k] && p.slider) {
        var range = tornadoRange(k);
        items.push({ p: k, low: range[0], high: range[1] });
      }
    });
    var ov = overridden.slice();
    items.forEach(function (t) {
      var vals = values.slice(), o = ov.slice();
      o[t.p] = 1;
      vals[t.p] = t.low; t.atLow = monthlyOf(_evaluate(vals, o, 1));
      vals[t.p] = t.high; t.atHigh = monthlyOf(_evaluate(vals, o, 1));
      t.swing = Math.abs(t.atHigh - t.atLow);
      t.i = t.p;
    });
    var tNames = P.map(function (p) { return p.name; });
    items.sort(function (a, b) {
      var d = b.swing - a.swing;
      if (d) { return d; }
      return tNames[a.p] < tNames[b.p] ? -1 : tNames[a.p] > tNames[b.p] ? 1 : 0;
    });
    var shown = items.slice(0, data.tornado_rows), spread = 0;
    shown.forEach(function (t) { spread = Math.max(spread, Math.abs(t.atLow - base), Math.abs(t.atHigh - base)); });
    var scale = spread > 0 ? (area / 2) / spread : 0;
    for (var k = 0; k < data.tornado_rows; k++) {
      var row = document.querySelector('[data-t="' + k + '"]'), t = shown[k];
      if (!row) { continue; }
      if (!t) { row.setAttribute("visibility", "hidden"); continue; }
      row.removeAttribute("visibility");
      [["lo", t.atLow], ["hi", t.atHigh]].forEach(function (end) {
        var x = center + (end[1] - base) * scale, x1 = Math.min(center, x), x2 = Math.max(center, x);
        var rect = row.querySelector("[data-t-" + end[0] + "]");
        rect.setAttribute("x", (isFinite(x1) ? x1 : center).toFixed(2));
        rect.setAttribute("width", (isFinite(x2 - x1) ? x2 - x1 : 0).toFixed(2));
      });
      row.querySelector("[data-t-name]").textContent = tNames[t.p];
      row.querySelector("[data-t-text]").textContent = usd(t.atLow) + " \u2026 " + usd(t.atHigh);
    }
  }
  function niceMax(v) {
    if (!(v > 0) || !isFinite(v)) { return 1; }
    var m = Math.pow(10, Math.floor(Math.log10(v))), f = [1, 2, 2.5, 5, 10];
    for (var k = 0; k < f.length; k++) { if (f[k] * m >= v * (1 - 1e-12)) { return f[k] * m; } }
    return 10 * m;
  }
  // the projection: stacked bars per month, by cost vector and by component (the
  // PROJECTION_COMPONENTS rows costing the most in the last month, then "other")
  var projViews = {};
  ["vector", "component"].forEach(function (view) {
    var svg = document.getElementById("lm-proj-" + view);
    if (!svg) { return; }
    var months = all("#lm-proj-" + view + " [data-m]").map(function (g) {
      return Array.prototype.slice.call(g.querySelectorAll("[data-s]"));
    });
    projViews[view] = {
      months: months, budget: svg.querySelector("[data-budget]"),
      ticks: Array.prototype.slice.call(svg.querySelectorAll("[data-y-tick]")),
      names: all("#lm-legend-" + view + " [data-legend-name]")
    };
  });
  function projectionSeries(perMonth, view) {
    var last = perMonth[perMonth.length - 1], k;
    if (view === "vector") {
      return { names: CATS.slice(), series: CATS.map(function (c, i) { return perMonth.map(function (x) { return x.byCat[i]; }); }) };
    }
    var ranked = names.map(function (n, i) { return i; });
    ranked.sort(function (a, b) {
      var d = last.rows[b] - last.rows[a];
      if (d) { return d; }
      return names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : 0;
    });
    var top = ranked.slice(0, data.projection.components), rest = ranked.slice(data.projection.components);
    var out = { names: top.map(function (i) { return names[i]; }),
                series: top.map(function (i) { return perMonth.map(function (x) { return x.rows[i]; }); }) };
    if (rest.length) {
      out.names.push("other");
      out.series.push(perMonth.map(function (x) {
        var sum = 0;
        for (k = 0; k < rest.length; k++) { sum += x.rows[rest[k]]; }
        return sum;
      }));
    }
    return out;
  }
  function drawProjection(view, perMonth, top) {
    var els = projViews[view], g = data.geometry.projection, ph = g.height - g.top - g.bottom;
    if (!els) { return; }
    function y(v) { return g.top + ph * (1 - v / top); }
    var stacks = projectionSeries(perMonth, view);
    els.months.forEach(function (rects, m) {
      var base = 0;
      rects.forEach(function (rect, k) {
        var raw = stacks.series[k] ? stacks.series[k][m] : 0, v = isFinite(raw) && raw > 0 ? raw : 0;
        var y1 = y(base + v), y0 = y(base);
        rect.setAttribute("data-value", String(raw));
        rect.setAttribute("y", y1.toFixed(1));
        rect.setAttribute("height", (y0 - y1).toFixed(1));
        if (rect.firstChild) { rect.firstChild.textContent = "month " + m + " \u00b7 " + stacks.names[k] + ": " + usd(raw); }
        base += v;
      });
    });
    els.ticks.forEach(function (tick, k) { tick.textContent = usd0(top * k / 4); });
    els.names.forEach(function (el, k) { setText(el, stacks.names[k] || ""); });
    if (els.budget && data.projection.budget !== null) {
      els.budget.setAttribute("y1", y(data.projection.budget).toFixed(1));
      els.budget.setAttribute("y2", y(data.projection.budget).toFixed(1));
    }
  }
  function showProjection() {
    var pr = data.projection;
    if (!pr || pr.time === null) { return; }
    var perMonth = [], most = 0;
    for (var m = 0; m <= pr.months; m++) {
      var vals = values.slice();
      vals[pr.time] = m;
      var s = _evaluate(vals, overridden, 1), rpm = s[L.totals + 2], x = { total: monthlyOf(s), byCat: [], rows: [] };
      for (var c = 0; c < CATS.length; c++) { x.byCat.push(s[L.by_category + c] * rpm + s[L.fixed_by_category + c]); }
      for (var i = 0; i < NROWS; i++) { x.rows.push(s[L.visits + i] * s[L.cost + i] * rpm); }
      for (var j = 0; j < NFIXED; j++) { x.rows.push(s[L.fixed + j]); }
      perMonth.push(x);
      if (isFinite(x.total)) { most = Math.max(most, x.total); }
    }
    if (pr.budget !== null) { most = Math.max(most, pr.budget); }
    var top = niceMax(most * 1.05);
    drawProjection("vector", perMonth, top);
    drawProjection("component", perMonth, top);
    var last = perMonth[perMonth.length - 1].total;
    fig("projection_last", last, usd(last));
  }

  // --- what changed between two scenarios (static numbers, chosen in the page) ---
  function num(v) { return typeof v === "string" ? (v === "inf" ? Infinity : v === "-inf" ? -Infinity : NaN) : v; }
  function signedUsd(x, small) { return isFinite(x) && x > -1e-15 ? "+" + usd(x, small) : usd(x, small); }
  function signedNumber(x, decimals) {
    if (!isFinite(x)) { return (x > 0 ? "+" : "") + infinite(x); }
    if (Math.abs(x) < 1e-15) { x = 0; }
    var shown = fixed(Math.abs(x), decimals);
    return (x < 0 && /[1-9]/.test(shown) ? MINUS : "+") + shown;
  }
  function same(x, y) {
    return x === y || (isFinite(x) && isFinite(y) && Math.abs(x - y) <= 1e-12 * Math.max(Math.abs(x), Math.abs(y)));
  }
  function cellsRow(body, texts, head) {
    var tr = document.createElement("tr");
    texts.forEach(function (text, k) {
      var el = document.createElement(k === 0 && head ? "th" : "td");
      if (k === 0 && head) { el.setAttribute("scope", "row"); }
      if (k > 0) { el.className = "num"; }
      if (k === 0 && !head) { var code = document.createElement("code"); code.textContent = text; el.appendChild(code); }
      else { el.textContent = text; }
      tr.appendChild(el);
    });
    body.appendChild(tr);
  }
  function showChanges() {
    var from = document.getElementById("lm-from"), to = document.getElementById("lm-to");
    if (!from || !to) { return; }
    var sa = data.scenarios[+from.value], sb = data.scenarios[+to.value];
    if (!sa.result || !sb.result) { return; }
    var a = sa.result, b = sb.result;
    var label = function (sc) { return sc.name === null ? "(defaults)" : sc.name; };
    document.getElementById("lm-change-a").textContent = label(sa);
    document.getElementById("lm-change-b").textContent = label(sb);
    var totals = document.querySelector("#lm-change-totals tbody"), params = document.querySelector("#lm-change-params tbody");
    while (totals.firstChild) { totals.removeChild(totals.firstChild); }
    while (params.firstChild) { params.removeChild(params.firstChild); }
    [["monthly_total", "monthly total", false], ["cost_per_request", "cost per request", true],
     ["cost_per_success", "cost per successful request", true]].forEach(function (t) {
      var x = num(a[t[0]]), y = num(b[t[0]]);
      cellsRow(totals, [t[1], usd(x, t[2]), usd(y, t[2]), signedUsd(y - x, t[2])], true);
    });
    cellsRow(totals, ["P(success)", pct4(num(a.p_success)), pct4(num(b.p_success)),
                      signedNumber(100 * (num(b.p_success) - num(a.p_success)), 4) + " pp"], true);
    CATS.forEach(function (c, k) {
      var x = num(a.by_category[k]), y = num(b.by_category[k]);
      cellsRow(totals, [c + ", a month", usd(x), usd(y), signedUsd(y - x)], true);
    });
    var differ = 0;
    P.forEach(function (p, k) {
      var x = num(a.values[k]), y = num(b.values[k]);
      if (p.builtin || same(x, y)) { return; }
      differ += 1;
      cellsRow(params, [p.name, paramText(x, p), paramText(y, p)], false);
    });
    document.getElementById("lm-change-none").textContent = differ ? "" : "No parameter differs.";
  }
  ["lm-from", "lm-to"].forEach(function (id) {
    var el = document.getElementById(id);
    if (el) { el.addEventListener("change", showChanges); }
  });

  // --- the diagram: fit to the page's width, or zoomed (the box scrolls) ---
  var diagramBox = document.querySelector(".diagram"), diagramSvg = diagramBox ? diagramBox.querySelector("svg") : null;
  var zoom = 0;   // 0: fit the width
  function natural() {
    var box = (diagramSvg.getAttribute("viewBox") || "").split(/[ ,]+/).map(Number);
    return box.length === 4 && box[2] > 0 ? [box[2] * 4 / 3, box[3] * 4 / 3] : [diagramSvg.clientWidth, diagramSvg.clientHeight];
  }
  function setZoom(z) {
    // keep what is in the middle of the box in the middle
    var centre = diagramBox.scrollWidth ? (diagramBox.scrollLeft + diagramBox.clientWidth / 2) / diagramBox.scrollWidth : 0.5;
    zoom = z;
    var size = natural(), out = document.getElementById("lm-zoom-level");
    if (z === 0) {
      diagramBox.classList.remove("zoomed");
      diagramSvg.setAttribute("width", size[0].toFixed(0));
      diagramSvg.setAttribute("height", size[1].toFixed(0));
      if (out) { out.textContent = "fit"; }
    } else {
      diagramBox.classList.add("zoomed");
      diagramSvg.setAttribute("width", (size[0] * z).toFixed(0));
      diagramSvg.setAttribute("height", (size[1] * z).toFixed(0));
      if (out) { out.textContent = Math.round(z * 100) + "%"; }
    }
    diagramBox.scrollLeft = Math.max(0, centre * diagramBox.scrollWidth - diagramBox.clientWidth / 2);
  }
  function fitScale() {
    var size = natural();
    return Math.min(1, diagramBox.clientWidth / size[0]);
  }
  if (diagramSvg) {
    document.getElementById("lm-zoom").removeAttribute("hidden");
    [["lm-zoom-in", function () { setZoom(Math.min(4, (zoom || fitScale()) * 1.25)); }],
     ["lm-zoom-out", function () { setZoom(Math.max(0.1, (zoom || fitScale()) / 1.25)); }],
     ["lm-zoom-fit", function () { setZoom(0); }],
     ["lm-zoom-actual", function () { setZoom(1); }]].forEach(function (b) {
      var el = document.getElementById(b[0]);
      if (el) { el.addEventListener("click", b[1]); }
    });
  }

  function update(analyses) {
    var r = compute(values, overridden);
    showSummary(r);
    showVectors(r);
    showComponents(r);
    showOverhead(r);
    showBudgets(r);
    showLatency(r);
    showCapacity(r);
    showParams(r);
    showProblems(r);
    if (analyses) { showTornado(r.monthly_total); showProjection(); }
    return r;
  }

  all("input[type=range][data-p]").forEach(function (input) {
    var k = +input.getAttribute("data-p"), p = P[k];
    var out = document.querySelector('[data-out="' + k + '"]');
    function moved(analyses) {
      values[k] = input.valueAsNumber;
      overridden[k] = 1;
      if (out) { out.textContent = paramText(values[k], p); }
      input.parentNode.setAttribute("class", "slider moved");
      update(analyses);
    }
    input.addEventListener("input", function () { moved(data.live_analysis); });
    input.addEventListener("change", function () { moved(true); });
  });
  var reset = document.getElementById("lm-reset");
  if (reset) {
    reset.addEventListener("click", function () {
      values = initial.slice();
      overridden = P.map(function () { return 0; });
      all("input[type=range][data-p]").forEach(function (input) {
        var k = +input.getAttribute("data-p");
        input.value = String(initial[k]);
        input.parentNode.setAttribute("class", "slider");
        var out = document.querySelector('[data-out="' + k + '"]');
        if (out) { out.textContent = paramText(initial[k], P[k]); }
      });
      update(true);
    });
  }
  var filter = document.getElementById("lm-filter");
  if (filter) {
    filter.addEventListener("input", function () {
      var text = filter.value.toLowerCase();
      all("[data-slider]").forEach(function (el) {
        var p = P[+el.getAttribute("data-slider")];
        if (!text || p.name.toLowerCase().indexOf(text) >= 0) { el.removeAttribute("hidden"); }
        else { el.setAttribute("hidden", ""); }
      });
    });
  }
  window.llmarchReport = { compute: function (vals, ov) { return compute(vals, ov || overridden); },
                           values: function () { return values.slice(); }, update: update };
})();
