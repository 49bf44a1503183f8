/* The order page turns from "processing" into download links without a reload, and the
   invoice page downloads the PDF once it is ready: both poll a small JSON endpoint of the shop.
   Without JavaScript both pages still work (they say to refresh). */
(function () {
  "use strict";

  function poll(url, onAnswer) {
    var delay = 600;
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          if (!onAnswer(data)) {
            delay = Math.min(delay * 1.3, 5000);
            window.setTimeout(tick, delay);
          }
        })
        .catch(function () {
          delay = Math.min(delay * 2, 15000);
          window.setTimeout(tick, delay);
        });
    }
    window.setTimeout(tick, delay);
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function renderLinks(list, links) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    links.forEach(function (link) {
      var item = element("li");
      var title = element("span", "download-title", link.title);
      title.appendChild(element("span", "muted small", link.file));
      var button = element("a", "button button-small", "Download");
      button.href = link.url;
      var meta = element("span", "muted small download-meta",
        link.remaining + " downloads left · until " + link.expires);
      item.appendChild(title);
      item.appendChild(button);
      item.appendChild(meta);
      if (link.license_key) {
        var key = element("span", "license-key small", "License key ");
        key.appendChild(element("code", "", link.license_key));
        item.appendChild(key);
      }
      list.appendChild(item);
    });
  }

  var status = document.getElementById("order-status");
  if (status && !/\bstate-(ready|failed|expired|refunded)\b/.test(status.className)) {
    poll(status.getAttribute("data-status-url"), function (data) {
      status.className = status.className.replace(/\bstate-\w+\b/, "state-" + data.state);
      status.querySelector("[data-role=heading]").textContent = data.heading;
      status.querySelector("[data-role=message]").textContent = data.message;
      renderLinks(status.querySelector("[data-role=links]"), data.links);
      status.querySelector("[data-role=invoice]").hidden = !(data.invoice_url && data.state === "ready");
      status.querySelector("[data-role=retry]").hidden = !(data.state === "failed" || data.state === "expired" || data.late);
      var cancel = status.querySelector("[data-role=cancel]");
      if (cancel) cancel.hidden = data.status !== "pending";
      var cartLink = document.querySelector(".main-nav a[href='/cart']");
      if (cartLink && typeof data.cart_count === "number") {
        cartLink.textContent = data.cart_count ? "Cart (" + data.cart_count + ")" : "Cart";
      }
      return data.done;
    });
  }

  var invoice = document.getElementById("invoice-wait");
  if (invoice) {
    poll(invoice.getAttribute("data-invoice-status-url"), function (data) {
      if (data.ready) {
        // The PDF comes as a download, so this page stays: it says so and offers the links.
        invoice.querySelector("[data-role=heading]").textContent = "Your invoice is ready";
        invoice.querySelector("[data-role=waiting]").hidden = true;
        invoice.querySelector("[data-role=check]").hidden = true;
        invoice.querySelector("[data-role=ready]").hidden = false;
        window.location.assign(data.url);
      }
      return data.ready;
    });
  }
})();
