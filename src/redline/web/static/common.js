// redline web pages' shared helpers (loaded before app.js and play.js): building elements with
// text inserted as textContent only, calling the app's JSON API, and saying where a result's
// parameters came from (the shipped posterior or the priors). Vanilla JS, no external resources.
(function () {
  "use strict";

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  // A JSON API call. An object body is sent as JSON; a string, Blob or ArrayBuffer as it is (an
  // upload). Resolves with the answer's JSON; rejects with an Error carrying the app's error
  // payload (.data) and the HTTP status (.status).
  function api(method, url, body, headers) {
    var opts = { method: method, headers: headers || {}, credentials: "same-origin" };
    if (body !== undefined) {
      if (typeof body === "string" || body instanceof Blob || body instanceof ArrayBuffer) opts.body = body;
      else { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    }
    return fetch(url, opts).then(function (r) {
      return r.text().then(function (t) {
        var data; try { data = JSON.parse(t); } catch (e) { data = { error: t || r.statusText }; }
        if (!r.ok) { var err = new Error(data.error || r.statusText); err.data = data; err.status = r.status; throw err; }
        return data;
      });
    });
  }

  // The "priors instead of the shipped posterior" box (#prior-box, #prior-toggle): shown only for a
  // scenario that ships a posterior (info.posterior, from /api/scenarios/{ref}); unticked otherwise.
  function priorBox(info) {
    document.getElementById("prior-box").hidden = !info.posterior;
    if (!info.posterior) document.getElementById("prior-toggle").checked = false;
  }

  // Whether a request asks for the priors: only where a posterior ships and the box is ticked.
  function wantsPrior(info) {
    return !!(info && info.posterior && document.getElementById("prior-toggle").checked);
  }

  // Where a result's parameters came from (#result-parameters), from its posterior, prior and
  // origin: the posterior shipped with the scenario, or the priors (asked for, none ships, or an
  // upload, which never has one). The same words for runs, comparisons and games.
  function parametersLine(r) {
    var line = document.getElementById("result-parameters");
    line.setAttribute("data-posterior", r.posterior ? String(r.posterior.particles) : "");
    if (r.posterior) {
      line.textContent = "parameters drawn from the shipped posterior (" + r.posterior.particles.toLocaleString() + " particles)";
      line.title = r.posterior.path + ", sha256 " + r.posterior.sha256;
      return;
    }
    var why = r.prior ? "the priors were asked for instead of the shipped posterior" :
      r.origin === "upload" ? "an uploaded scenario has no posterior beside it" : "no posterior ships with this scenario";
    line.textContent = "parameters at their priors/defaults (" + why + ")";
    line.title = "";
  }

  window.redline = { el: el, api: api, priorBox: priorBox, wantsPrior: wantsPrior, parametersLine: parametersLine };
})();
