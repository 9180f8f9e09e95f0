// `llmarch watch`: ask the server which version of the page it serves; when it differs
// from this page's, load the new one. Only this script talks to the server (`connect-src
// 'self'`), and it writes text, never markup.
(function () {
  "use strict";
  var me = document.currentScript;
  var shown = me.getAttribute("data-version");
  var failures = 0;
  var banner = null;

  function say(text) {
    if (banner === null) {
      banner = document.createElement("div");
      banner.setAttribute("role", "status");
      banner.id = "lm-watch-stopped";
      var s = banner.style;
      s.position = "fixed"; s.left = "0"; s.right = "0"; s.bottom = "0"; s.padding = "6px 12px";
      s.background = "#7f8c8d"; s.color = "#fff"; s.font = "14px sans-serif"; s.zIndex = "10";
      document.body.appendChild(banner);
    }
    banner.textContent = text;
  }

  function poll() {
    fetch("/version", { cache: "no-store" }).then(function (response) {
      if (!response.ok) { throw new Error("status " + response.status); }
      return response.text();
    }).then(function (version) {
      failures = 0;
      if (banner !== null) { banner.remove(); banner = null; }
      if (version.trim() !== shown) { window.location.reload(); return; }
      setTimeout(poll, 300);
    }).catch(function () {
      failures += 1;
      say("llmarch watch is not answering: this page is not updated (start it again to resume)");
      setTimeout(poll, Math.min(5000, 300 * Math.pow(2, failures)));
    });
  }
  setTimeout(poll, 300);
}());
