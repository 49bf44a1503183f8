/* Opens Paytm's JS checkout for the order on this page. Paytm's own script (loaded from
   PAYTM_HOST by the page) defines window.Paytm.CheckoutJS; the values come from the
   page's data attributes, so no inline script is needed under the shop's CSP. If the
   script cannot load, the page's "Continue to Paytm" form still reaches Paytm. */
(function () {
  "use strict";
  var box = document.getElementById("paytm-checkout");
  if (!box) { return; }
  var status = box.querySelector("[data-role=paytm-status]");

  function open() {
    if (!window.Paytm || !window.Paytm.CheckoutJS) {
      status.textContent = "Paytm's payment window did not load. Use the button below to continue on Paytm.";
      return;
    }
    var config = {
      root: "",
      flow: "DEFAULT",
      data: {
        orderId: box.getAttribute("data-order-id"),
        token: box.getAttribute("data-token"),
        tokenType: "TXN_TOKEN",
        amount: box.getAttribute("data-amount")
      },
      handler: {
        notifyMerchant: function (eventName) {
          if (eventName === "APP_CLOSED") {
            status.textContent = "The payment window was closed. Use the button below to open it again.";
          }
        }
      }
    };
    window.Paytm.CheckoutJS.init(config).then(function () {
      status.textContent = "Complete the payment in Paytm's window.";
      window.Paytm.CheckoutJS.invoke();
    }).catch(function () {
      status.textContent = "Paytm's payment window could not open. Use the button below to continue on Paytm.";
    });
  }

  if (window.Paytm && window.Paytm.CheckoutJS && window.Paytm.CheckoutJS.onLoad) {
    window.Paytm.CheckoutJS.onLoad(open);
  } else {
    window.addEventListener("load", open);
  }
})();
