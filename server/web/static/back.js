/* The error page's "back" button: one step back in the history when there is one, else the
   link's own address (the home page). A file, not a javascript: link, for the pages' CSP. */
(function () {
  "use strict";
  var links = document.querySelectorAll("a[data-back]");
  for (var i = 0; i < links.length; i++) {
    links[i].addEventListener("click", function (event) {
      if (window.history.length > 1) {
        event.preventDefault();
        window.history.back();
      }
    });
  }
})();
