/* Live alerts on staff pages: a short poll of /staff/alerts.json, no reload needed.
   A poll every few seconds is one indexed query; it survives proxies and sleeping laptops
   better than a held-open stream, and needs no async database access on the server. */
(function () {
  "use strict";
  var box = document.getElementById("alerts");
  if (!box || !window.fetch) { return; }
  var en = box.dataset.lang === "en";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var onSitePage = document.body.classList.contains("site-page");
  var cursor = null;
  var POLL_MS = 4000;
  var shown = {};

  // The words come translated from the page (base.html, the web catalog).
  var words = box.dataset;

  function timeOf(iso) {
    var d = new Date(iso);
    if (isNaN(d)) { return ""; }
    return d.toLocaleString(en ? "en-GB" : "zh-CN", {
      month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      timeZone: box.dataset.tz || "Asia/Shanghai"
    });
  }

  function render(alert) {
    if (shown[alert.id]) { return; }
    shown[alert.id] = true;
    var item = document.createElement("div");
    item.className = "alert-item" + (alert.urgent ? "" : " normal");
    item.dataset.alertId = alert.id;
    var label = document.createElement("strong");
    label.textContent = "⚠ " + (alert.urgent ? words.urgent : words.notice);
    var title = document.createElement("span");
    title.textContent = alert.title;
    var when = document.createElement("span");
    when.className = "muted";
    when.textContent = timeOf(alert.created_at);
    item.append(label, title, when);
    if (alert.ticket_id) {
      var link = document.createElement("a");
      link.href = "/staff/tickets/" + encodeURIComponent(alert.ticket_id);
      link.textContent = words.open;
      item.append(link);
    }
    var ack = document.createElement("button");
    ack.type = "button";
    ack.className = "btn btn-quiet";
    ack.textContent = "✓ " + words.ack;
    ack.addEventListener("click", function () { acknowledge(alert.id, item, ack); });
    item.append(ack);
    box.prepend(item);
    box.hidden = false;
  }

  function acknowledge(id, item, button) {
    var body = new FormData();
    body.append("csrf_token", csrf);
    button.disabled = true;
    fetch("/staff/alerts/" + encodeURIComponent(id) + "/ack", {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (reply) {
      if (!reply.ok) { throw new Error(reply.status); }
      item.remove();
      if (!box.children.length) { box.hidden = true; }
    }).catch(function () {
      button.disabled = false;
      button.textContent = "✓ " + words.failed;
    });
  }

  function poll() {
    var url = "/staff/alerts.json" + (cursor === null ? "" : "?after=" + cursor);
    var first = cursor === null;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (reply) { return reply.ok ? reply.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        if (!(first && onSitePage)) { data.alerts.forEach(render); }
        cursor = data.cursor;
        if (data.sensing === false) { return; }  // nothing to follow on this server
        window.setTimeout(poll, POLL_MS);
      })
      .catch(function () { window.setTimeout(poll, POLL_MS * 3); });
  }

  poll();
})();
