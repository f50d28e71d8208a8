// redline web seat: vanilla JS, no external resources. Text from scenarios (which may be uploaded)
// is only ever inserted with textContent.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var game = null;
  var info = null;  // the chosen scenario's controls (/api/scenarios/{ref})

  var el = window.redline.el, api = window.redline.api;

  function showError(err) { var box = $("play-error"); box.hidden = false; box.textContent = (err && err.message) || String(err); }
  function hideError() { var box = $("play-error"); box.hidden = true; box.textContent = ""; }
  function num(x) { return x === null || x === undefined ? "–" : (Math.abs(x) >= 1000 ? x.toFixed(0) : String(+x.toPrecision(4))); }
  function signed(x) { var s = String(+x.toPrecision(3)); return x >= 0 ? "+" + s : s; }

  function loadScenarios() {
    return api("GET", "/api/scenarios").then(function (data) {
      var sel = $("play-scenario");
      sel.textContent = "";
      data.scenarios.forEach(function (s) { sel.appendChild(el("option", { value: s.ref, text: s.ref })); });
      var wanted = new URLSearchParams(location.search).get("scenario");
      if (wanted) sel.value = wanted;
      return loadActors();
    });
  }

  function loadActors() {
    return api("GET", "/api/scenarios/" + encodeURIComponent($("play-scenario").value)).then(function (data) {
      info = data;
      window.redline.priorBox(info);
      var sel = $("play-actor");
      sel.textContent = "";
      info.actors.forEach(function (a) { sel.appendChild(el("option", { value: a.id, text: a.name + " (" + a.id + ")" })); });
      var wanted = new URLSearchParams(location.search).get("actor");  // only if this scenario has it
      if (wanted && info.actors.some(function (a) { return a.id === wanted; })) sel.value = wanted;
      $("play-horizon").value = info.horizon;
    });
  }

  function start() {
    hideError();
    $("play-result").hidden = true;
    var body = { scenario: $("play-scenario").value, actor: $("play-actor").value,
                 seed: parseInt($("play-seed").value || "0", 10), horizon: parseInt($("play-horizon").value, 10) || null };
    if (window.redline.wantsPrior(info)) body.prior = true;
    api("POST", "/api/play", body).then(function (data) {
      game = data.game;
      document.body.dataset.game = game;
      poll();
    }).catch(showError);
  }

  function poll() {
    $("play-wait").hidden = false;
    api("GET", "/api/play/" + game + "?wait=10").then(function (g) {
      if (g.status === "running") return poll();
      $("play-wait").hidden = true;
      window.redline.parametersLine(g);
      document.body.dataset.status = g.status;
      if (g.status === "waiting") showTurn(g.briefing);
      else if (g.status === "done") showResult(g.result);
      else { $("play-turn").hidden = true; showError(new Error(g.error || "the game failed")); }
    }).catch(function (err) { $("play-wait").hidden = true; showError(err); });
  }

  function showTurn(b) {
    $("play-turn").hidden = false;
    $("play-week").textContent = "Week " + b.week + " · " + b.date + " · you are " + b.name;
    document.body.dataset.week = b.week;
    var tbody = $("play-state").querySelector("tbody");
    tbody.textContent = "";
    b.state.forEach(function (row) {
      tbody.appendChild(el("tr", { title: row.description }, [el("td", { text: row.name }), el("td", { className: "num", text: num(row.value) }), el("td", { className: "muted", text: row.unit })]));
    });
    $("play-last").textContent = b.last_week.length ? "Last week: " + b.last_week.join(", ") : "";
    var tracks = $("play-tracks");
    tracks.textContent = "";
    Object.keys(b.tracks).forEach(function (track) {
      var box = el("fieldset", { "data-track": track }, [el("legend", { text: "Track " + track })]);
      var none = el("input", { type: "radio", name: "track-" + track, value: "", id: "opt-" + track + "-none" });
      none.checked = true;
      box.appendChild(el("label", { className: "option" }, [none, " no action"]));
      b.tracks[track].forEach(function (row) {
        var input = el("input", { type: "radio", name: "track-" + track, value: row.id, id: "opt-" + track + "-" + row.id });
        var effects = Object.keys(row.expected).map(function (v) { return v + " " + signed(row.expected[v]); }).join(", ");
        var label = el("label", { className: "option" }, [input, " ", el("b", { text: row.id }), " — " + row.description]);
        label.appendChild(el("div", { className: "muted small", text: "expected: " + (effects || "no change") + (row.may_trip.length ? " · may trip: " + row.may_trip.join(", ") : "") }));
        box.appendChild(label);
      });
      tracks.appendChild(box);
    });
    $("play-choose").disabled = false;
  }

  function choose(ev) {
    ev.preventDefault();
    var pick = {};
    Array.prototype.forEach.call($("play-tracks").querySelectorAll("fieldset"), function (box) {
      var track = box.getAttribute("data-track");
      var checked = box.querySelector("input:checked");
      pick[track] = checked && checked.value ? checked.value : null;
    });
    $("play-choose").disabled = true;
    hideError();
    api("POST", "/api/play/" + game + "/act", { choose: pick }).then(function () {
      $("play-turn").hidden = true;
      poll();
    }).catch(function (err) { $("play-choose").disabled = false; showError(err); });
  }

  function showResult(r) {
    $("play-turn").hidden = true;
    $("play-result").hidden = false;
    var arms = Object.keys(r.outcomes);
    var head = $("play-outcomes").querySelector("thead");
    head.textContent = "";
    head.appendChild(el("tr", {}, [el("th", { text: "outcome" })].concat(arms.map(function (a) { return el("th", { text: a }); }))));
    var body = $("play-outcomes").querySelector("tbody");
    body.textContent = "";
    Object.keys(r.outcomes.you).forEach(function (o) {
      body.appendChild(el("tr", { title: r.descriptions[o] || "" }, [el("td", { text: o })].concat(arms.map(function (a) {
        var w = r.outcomes[a][o];
        return el("td", { className: "num", "data-arm": a, "data-outcome": o, text: w === null ? "–" : "week " + w });
      }))));
    });
  }

  $("play-scenario").addEventListener("change", function () { loadActors().catch(showError); });
  $("play-start").addEventListener("click", start);
  $("play-form").addEventListener("submit", choose);
  loadScenarios().catch(showError);
}());
