// redline web pages' shared helpers (loaded before app.js and play.js): building elements with
// text inserted as textContent only, and calling the app's JSON API. Vanilla JS, no external resources.
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

  window.redline = { el: el, api: api };
})();
