// The queue dashboard's live refresh, and confirmations for destructive forms.
//
// A page opts in with an element carrying data-live-url (a JSON endpoint) and
// data-live-interval (milliseconds). Every interval the endpoint is fetched;
// its "html" object maps section names to HTML rendered by the server's own
// templates, and each element with a matching data-live attribute gets the new
// content. Nothing is evaluated: the fragments are parsed as inert HTML and
// their nodes moved in, which the page's Content-Security-Policy
// (script-src 'self') allows. Polling pauses while the tab is hidden or a
// control inside a live section has the focus, so a click is never swallowed.
(function () {
  "use strict";

  function confirmForms() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var question = form.getAttribute && form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
      }
    });
  }

  function replaceSection(target, html) {
    var parsed = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
    var nodes = Array.prototype.slice.call(parsed.body.childNodes);
    target.replaceChildren.apply(target, nodes.map(function (node) {
      return document.importNode(node, true);
    }));
  }

  function startLive(root) {
    var url = root.getAttribute("data-live-url");
    var interval = parseInt(root.getAttribute("data-live-interval"), 10) || 3000;
    var status = root.querySelector("[data-live-status]");
    var failures = 0;
    var timer = null;

    function setStatus(text, failed) {
      if (!status) { return; }
      status.textContent = text;
      status.classList.toggle("live-failed", !!failed);
    }

    function busy() {
      var active = document.activeElement;
      return active && active !== document.body && root.contains(active) &&
        /^(BUTTON|INPUT|SELECT|TEXTAREA|SUMMARY)$/.test(active.tagName);
    }

    function schedule(delay) {
      clearTimeout(timer);
      timer = setTimeout(refresh, delay);
    }

    function refresh() {
      if (document.hidden || busy()) {
        schedule(interval);
        return;
      }
      fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin", cache: "no-store"})
        .then(function (response) {
          if (response.redirected || response.status === 401 || response.status === 403) {
            setStatus("Your session has ended: reload the page to log in again.", true);
            throw new Error("signed out");
          }
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          Object.keys(data.html || {}).forEach(function (name) {
            var target = root.querySelector('[data-live="' + name + '"]');
            if (target) { replaceSection(target, data.html[name]); }
          });
          Object.keys(data.counts || {}).forEach(function (name) {
            var badge = document.querySelector('[data-live-count="' + name + '"]');
            if (badge) {
              badge.textContent = data.counts[name].toLocaleString("en");
              badge.classList.toggle("badge-failed", data.counts[name] > 0);
            }
          });
          var stamp = data.stats && data.stats.generated_at;
          setStatus("Live · updated " + (stamp ? stamp.slice(11, 19) + " UTC" : "just now"), false);
          schedule(interval);
        })
        .catch(function (error) {
          if (error.message === "signed out") { return; }
          failures += 1;
          setStatus("Cannot reach the server; trying again…", true);
          schedule(Math.min(interval * Math.pow(2, failures), 60000));
        });
    }

    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) { schedule(0); }
    });
    setStatus("Live · refreshing every " + Math.round(interval / 1000) + " s", false);
    schedule(interval);
  }

  confirmForms();
  document.querySelectorAll("[data-live-url]").forEach(startLive);
}());
