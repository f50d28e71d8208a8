// redline web app: vanilla JS, no external resources. Text from scenarios (which may be uploaded)
// is only ever inserted with textContent; the SVG charts come from the server, which escapes it.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var state = { scenario: null, info: null, job: null, polling: null, autoRun: true };

  var el = window.redline.el, api = window.redline.api;

  function showError(box, err) {
    box.hidden = false;
    box.textContent = "";
    var d = (err && err.data) || {};
    if (d.line) {
      box.appendChild(el("span", { className: "where", text: (d.file || "upload") + ":" + d.line + (d.column ? ":" + d.column : "") }));
      box.appendChild(document.createTextNode(" " + (d.message || d.error)));
      box.setAttribute("data-line", d.line);
    } else {
      box.appendChild(document.createTextNode(d.error || String(err.message || err)));
      box.removeAttribute("data-line");
    }
  }
  function hideError(box) { box.hidden = true; box.textContent = ""; }
  function pct(x) { return x === null || x === undefined ? "–" : (100 * x).toFixed(1) + "%"; }
  function human(s) { return String(s).replace(/_/g, " "); }

  // ---------- scenarios ----------
  function loadScenarioList(select) {
    return api("GET", "/api/scenarios").then(function (data) {
      var sel = $("scenario-select");
      sel.textContent = "";
      data.scenarios.forEach(function (s) {
        sel.appendChild(el("option", { value: s.ref, text: s.ref.indexOf("upload-") === 0 ? s.title : s.ref + " — " + s.title }));
      });
      var wanted = select || new URLSearchParams(location.search).get("scenario");
      var refs = data.scenarios.map(function (s) { return s.ref; });
      if (!wanted || refs.indexOf(wanted) < 0) wanted = refs.indexOf("iran-us-2020") >= 0 ? "iran-us-2020" : refs[0];
      sel.value = wanted;
      return selectScenario(wanted);
    });
  }

  function selectScenario(ref) {
    state.scenario = ref;
    return api("GET", "/api/scenarios/" + encodeURIComponent(ref)).then(function (info) {
      state.info = info;
      $("scenario-title").textContent = info.title;
      $("scenario-description").textContent = info.description || "";
      $("scenario-warnings").textContent = info.warnings.length ? info.warnings.length + " provenance warning(s)" : "";
      buildStrategyControls(info);
      buildParamControls(info);
      window.redline.priorBox(info);  // only a scenario that ships a posterior can leave it
      $("graph").innerHTML = info.graph;
      buildProvenance(info.provenance);
      document.body.setAttribute("data-scenario", ref);
      if (state.autoRun) { state.autoRun = false; run(); }
    });
  }

  function buildStrategyControls(info) {
    var box = $("strategy-controls");
    box.textContent = "";
    var cmpActor = $("compare-actor");
    cmpActor.textContent = "";
    info.actors.forEach(function (a) {
      if (!a.strategies.length) return;
      var sel = el("select", { id: "strategy-" + a.id, "data-actor": a.id });
      sel.appendChild(el("option", { value: "", text: "default" + (a.default_strategy ? " (" + a.default_strategy + ")" : " policy") }));
      a.strategies.forEach(function (s) { sel.appendChild(el("option", { value: s.id, text: s.id, title: s.description })); });
      box.appendChild(el("label", { "for": sel.id, text: a.name + " (" + a.id + ")" }));
      box.appendChild(sel);
      if (a.strategies.length >= 2) cmpActor.appendChild(el("option", { value: a.id, text: a.name }));
    });
    if (!box.children.length) box.appendChild(el("div", { className: "muted small", text: "No actor in this scenario has alternative strategies." }));
    $("compare-toggle").disabled = !cmpActor.children.length;
    if (!cmpActor.children.length) $("compare-toggle").checked = false;
    fillComparePair();
  }

  function fillComparePair() {
    var actor = (state.info.actors.filter(function (a) { return a.id === $("compare-actor").value; })[0]) || { strategies: [] };
    ["compare-a", "compare-b"].forEach(function (id, i) {
      var sel = $(id);
      sel.textContent = "";
      actor.strategies.forEach(function (s) { sel.appendChild(el("option", { value: s.id, text: s.id })); });
      if (actor.strategies.length > i) sel.selectedIndex = i;
    });
  }

  function decimals(p) { var span = p.high - p.low; return span >= 100 ? 0 : span >= 10 ? 1 : span >= 1 ? 2 : 3; }

  function buildParamControls(info) {
    var box = $("param-controls");
    box.textContent = "";
    info.parameters.forEach(function (p) {
      var step = "any"; // keeps the default exactly (a grid step would round it and change the run)
      var input = el("input", { type: "range", id: "param-" + p.name, min: p.low, max: p.high, step: step, value: p.default, "data-name": p.name, "data-default": p.default });
      var value = el("span", { className: "value", text: Number(p.default).toFixed(decimals(p)) });
      input.addEventListener("input", function () { value.textContent = Number(input.value).toFixed(decimals(p)); });
      var wrap = el("div", { className: "param", title: p.description || "" }, [
        el("div", { className: "row" }, [el("label", { "for": input.id, text: human(p.name) + (p.kind === "lever" ? " (lever)" : "") }), value]),
        input,
        el("div", { className: "row muted small" }, [el("span", { text: String(p.low) }), el("span", { text: String(p.high) })])
      ]);
      box.appendChild(wrap);
    });
    if (!info.parameters.length) box.appendChild(el("div", { className: "muted small", text: "No uncertainties or levers." }));
  }

  function buildProvenance(rows) {
    var body = document.querySelector("#provenance tbody");
    body.textContent = "";
    rows.forEach(function (r) {
      var cell = el("td");
      if (r.source) {
        var c = r.citation || {};
        cell.appendChild(el("b", { text: r.source.id }));
        cell.appendChild(document.createTextNode(": " + (c.title || "") + (c.publisher ? ", " + c.publisher : "") + (c.date ? ", " + c.date : "")));
        if (r.context) {
          cell.appendChild(el("div", { className: "quote" }, ["…" + r.context.before + " ", el("mark", { text: r.context.passage }), " " + r.context.after + "…"]));
        }
      }
      if (r.assumption) cell.appendChild(el("div", { className: "assumption", text: "assumption: " + r.assumption }));
      if (!r.source && !r.assumption) cell.appendChild(el("span", { className: "missing", text: "no source or assumption" }));
      body.appendChild(el("tr", { id: "prov-" + r.element }, [el("td", {}, [el("code", { text: r.element })]), el("td", { text: r.kind }), cell]));
    });
  }

  // ---------- running ----------
  function collectRequest() {
    var strategies = {};
    document.querySelectorAll("#strategy-controls select").forEach(function (s) { if (s.value) strategies[s.getAttribute("data-actor")] = s.value; });
    var params = {};
    document.querySelectorAll("#param-controls input[type=range]").forEach(function (i) {
      if (Number(i.value) !== Number(i.getAttribute("data-default"))) params[i.getAttribute("data-name")] = Number(i.value);
    });
    var req = { scenario: state.scenario, runs: Number($("runs").value), seed: Number($("seed").value), strategies: strategies, params: params };
    if (window.redline.wantsPrior(state.info)) req.prior = true;
    if ($("compare-toggle").checked) req.compare = { actor: $("compare-actor").value, strategies: [$("compare-a").value, $("compare-b").value] };
    return req;
  }

  function setRunning(on) {
    $("run-button").disabled = on;
    $("run-button").textContent = on ? "Running…" : "Run";
    $("progress").hidden = !on;
    document.body.setAttribute("data-running", on ? "1" : "0");
  }

  function run() {
    hideError($("run-error"));
    var req = collectRequest();
    setRunning(true);
    $("progress").classList.add("indeterminate");
    $("progress-text").textContent = "queued";
    api("POST", "/api/jobs", req).then(function (job) {
      state.job = job.id;
      poll(job.id);
    }).catch(function (err) { setRunning(false); showError($("run-error"), err); });
  }

  function poll(id) {
    api("GET", "/api/jobs/" + id + "?wait=2").then(function (job) {
      if (id !== state.job) return;
      $("progress-fill").style.width = Math.round(100 * job.progress) + "%";
      $("progress-text").textContent = job.stage + " · " + job.elapsed_s.toFixed(1) + " s";
      if (job.status === "done") { setRunning(false); showResult(job); }
      else if (job.status === "error") { setRunning(false); showError($("run-error"), { data: { error: job.error } }); }
      else setTimeout(function () { poll(id); }, 50);
    }).catch(function (err) { setRunning(false); showError($("run-error"), err); });
  }

  function blockLabel(name, result) {
    if (name !== "run") return name;
    var s = Object.keys(result.strategies).map(function (a) { return a + "=" + result.strategies[a]; });
    return s.length ? s.join(", ") : "default strategies";
  }

  function showResult(job) {
    var r = job.result;
    $("results-empty").hidden = true;
    $("results").hidden = false;
    $("results").setAttribute("data-job", job.id);
    var params = Object.keys(r.params).map(function (k) { return k + "=" + r.params[k]; }).join(", ");
    $("result-meta").textContent = r.scenario + " · " + r.runs.toLocaleString() + (r.compare ? " paired runs per strategy" : " runs") +
      " · " + r.horizon + " weeks · seed " + r.seed + (params ? " · " + params : "") + " · " + (r.elapsed_s || 0).toFixed(2) + " s";
    window.redline.parametersLine(r);
    var notes = $("result-notes");
    notes.textContent = "";
    r.notes.forEach(function (n) { notes.appendChild(el("div", { className: "note", text: n })); });

    var table = $("outcome-table");
    table.textContent = "";
    var names = Object.keys(r.outcomes);
    var head = el("tr", {}, [el("th", { text: "outcome" })]);
    names.forEach(function (n) {
      head.appendChild(el("th", { text: blockLabel(n, r) + " — P (95% CI)" }));
      head.appendChild(el("th", { text: "median week" }));
    });
    table.appendChild(el("thead", {}, [head]));
    var body = el("tbody");
    Object.keys(r.outcomes[names[0]]).forEach(function (o) {
      var desc = (state.info.outcomes.filter(function (x) { return x.id === o; })[0] || {}).description || "";
      var tr = el("tr", {}, [el("td", { title: desc }, [el("a", { href: "#prov-outcomes." + o, "data-prov": "outcomes." + o, text: human(o) })])]);
      names.forEach(function (n) {
        var b = r.outcomes[n][o];
        tr.appendChild(el("td", { className: "num prob", "data-outcome": o, "data-strategy": n, "data-p": String(b.probability) },
          [el("b", { text: pct(b.probability) }), " (" + pct(b.ci95[0]) + "–" + pct(b.ci95[1]) + ")"]));
        tr.appendChild(el("td", { className: "num", text: b.median_week === null ? "–" : String(Math.round(b.median_week)) }));
      });
      body.appendChild(tr);
    });
    table.appendChild(body);
    table.querySelectorAll("a[data-prov]").forEach(function (a) {
      a.addEventListener("click", function (e) { e.preventDefault(); openTab("provenance"); var row = document.getElementById("prov-" + a.getAttribute("data-prov")); if (row) { row.scrollIntoView(); row.style.background = "#fff4ce"; } });
    });

    var diff = $("differences");
    diff.textContent = "";
    if (r.differences.length) {
      var dt = el("table", { id: "difference-table" }, [el("thead", {}, [el("tr", {}, ["a − b", "outcome", "difference", "95% CI (paired runs)"].map(function (h) { return el("th", { text: h }); }))])]);
      var db = el("tbody");
      r.differences.forEach(function (d) {
        var sig = d.ci95[0] > 0 || d.ci95[1] < 0;
        db.appendChild(el("tr", {}, [el("td", { text: d.a + " − " + d.b }), el("td", { text: human(d.outcome) }),
          el("td", { className: "num" + (sig ? " sig" : ""), text: (d.difference >= 0 ? "+" : "") + pct(d.difference) }),
          el("td", { className: "num", text: "[" + pct(d.ci95[0]) + ", " + pct(d.ci95[1]) + "]" })]));
      });
      dt.appendChild(db);
      diff.appendChild(el("h3", { text: "Differences (common random numbers)" }));
      diff.appendChild(dt);
    }
    mechanisms(diff, r);
    ["outcomes", "timing", "state"].forEach(function (k) { $("chart-" + k).innerHTML = r.charts[k] || ""; });
    $("dl-csv").href = "/api/jobs/" + job.id + "/results.csv";
    $("dl-parquet").href = "/api/jobs/" + job.id + "/results.parquet";
    $("dl-report").href = "/api/jobs/" + job.id + "/report.html";
    openTab("results");
  }

  // How often each red line fired and was carried out, and how often each action was taken, per block.
  function mechanisms(parent, r) {
    var names = Object.keys(r.red_lines || {});
    if (!names.length) { return; }
    blockTable(parent, r, names, {
      heading: "Red lines", id: "red-line-table", first: "red line", dataKey: "data-red-line",
      column: " — fired / carried out (share of runs), mean firings", of: r.red_lines,
      text: function (x) {
        return pct(x.fired) + " / " + pct(x.enforced) + " · " + (x.mean_firings === null || x.mean_firings === undefined ? "–" : x.mean_firings.toFixed(2));
      } });
    blockTable(parent, r, names, {
      heading: "Actions", id: "action-table", first: "action", dataKey: "data-action",
      column: " — mean times taken per run", of: r.actions,
      text: function (x) { return x.mean_count.toFixed(2) + " (" + pct(x.share_taken) + " of runs)"; } });
  }

  // One row per id of the first block's entries in t.of, one column per block (strategy); nothing
  // when the first block has no entries.
  function blockTable(parent, r, names, t) {
    var ids = Object.keys(t.of[names[0]] || {});
    if (!ids.length) { return; }
    var head = el("tr", {}, [el("th", { text: t.first })]);
    names.forEach(function (n) { head.appendChild(el("th", { text: blockLabel(n, r) + t.column })); });
    var body = el("tbody");
    ids.forEach(function (id) {
      var tr = el("tr", {}, [el("td", { text: human(id) })]);
      names.forEach(function (n) {
        var cell = { className: "num", "data-strategy": n, text: t.text(t.of[n][id]) };
        cell[t.dataKey] = id;
        tr.appendChild(el("td", cell));
      });
      body.appendChild(tr);
    });
    parent.appendChild(el("h3", { text: t.heading }));
    parent.appendChild(el("table", { id: t.id }, [el("thead", {}, [head]), body]));
  }

  // ---------- upload ----------
  function upload(file) {
    hideError($("upload-error"));
    var limit = Number($("upload-input").getAttribute("data-max-bytes"));  // the server's limit, written into the page
    if (file.size > limit) { showError($("upload-error"), { data: { error: file.name + " is " + file.size.toLocaleString() + " bytes; uploads are limited to " + limit.toLocaleString() } }); return; }
    file.arrayBuffer().then(function (buf) {
      return api("POST", "/api/uploads", buf, { "Content-Type": "application/yaml", "X-Filename": file.name });
    }).then(function (info) {
      return loadScenarioList(info.ref);
    }).catch(function (err) { showError($("upload-error"), err); });
  }

  // ---------- tabs ----------
  function openTab(name) {
    document.querySelectorAll(".tabs button").forEach(function (b) { b.classList.toggle("active", b.getAttribute("data-tab") === name); });
    document.querySelectorAll(".tab").forEach(function (t) { t.hidden = t.id !== "tab-" + name; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("scenario-select").addEventListener("change", function (e) { selectScenario(e.target.value).catch(function (err) { showError($("run-error"), err); }); });
    $("upload-input").addEventListener("change", function (e) { if (e.target.files.length) upload(e.target.files[0]); e.target.value = ""; });
    $("compare-actor").addEventListener("change", fillComparePair);
    $("run-button").addEventListener("click", run);
    $("reset-params").addEventListener("click", function () {
      document.querySelectorAll("#param-controls input[type=range]").forEach(function (i) { i.value = i.getAttribute("data-default"); i.dispatchEvent(new Event("input")); });
    });
    document.querySelectorAll(".tabs button").forEach(function (b) { b.addEventListener("click", function () { openTab(b.getAttribute("data-tab")); }); });
    $("prov-filter").addEventListener("input", function () {
      var q = this.value.toLowerCase();
      document.querySelectorAll("#provenance tbody tr").forEach(function (tr) { tr.style.display = tr.textContent.toLowerCase().indexOf(q) < 0 ? "none" : ""; });
    });
    api("GET", "/api/store").then(function (st) {
      $("store-desc").textContent = (st.summary.scenario || "") + ", " + (st.summary.experiments || "?") + " experiments";
      $("store-box").hidden = false;
    }).catch(function () { /* no --store: nothing to show */ });
    loadScenarioList().catch(function (err) { $("scenario-title").textContent = "Could not load scenarios"; showError($("run-error"), err); });
  });
})();
