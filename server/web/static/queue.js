/* The ticket queue updates itself: a short poll of the page's own address, and the parts
   marked data-live (the new requests at the top, the list) swapped in place. The filters the
   person is using stay as they are; nothing polls while the tab is hidden. */
(function () {
  "use strict";
  if (!window.fetch || !window.DOMParser) { return; }
  var me = document.currentScript;
  var seconds = parseInt((me && me.dataset.refreshS) || "20", 10);
  var busy = false;

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var live = document.querySelectorAll("[data-live]");
    for (var i = 0; i < live.length; i++) {
      var now = fresh.getElementById(live[i].id);
      if (now && now.innerHTML !== live[i].innerHTML) { live[i].innerHTML = now.innerHTML; }
    }
  }

  function poll() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", redirect: "manual" })
      .then(function (r) {
        // Signed out or expired: keep what is shown; the next click goes to the sign-in page.
        if (r.status !== 200) { return null; }
        return r.text();
      })
      .then(function (html) { if (html) { swap(html); } })
      .catch(function () { /* offline for a moment: try again next time */ })
      .then(function () { busy = false; });
  }

  window.setInterval(poll, Math.max(5, seconds) * 1000);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { poll(); }
  });
}());
