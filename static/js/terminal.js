// The web terminal: pays through the server (vendors.views.terminal_pay), keeps the PIN
// only in this page's memory, and only long enough to offer a partial payment.
// Scanning uses the browser's own BarcodeDetector where it exists; elsewhere the card
// number is typed. Nothing is loaded from elsewhere.
(function () {
  "use strict";
  var form = document.getElementById("pay-form");
  if (!form) return;
  var result = document.getElementById("result");
  var headline = result.querySelector(".result-headline");
  var detail = result.querySelector(".result-detail");
  var reason = result.querySelector(".result-reason");
  var partialButton = document.getElementById("pay-partial");
  var nextButton = document.getElementById("next-sale");
  var keyField = form.querySelector("[name=idempotency_key]");
  var last = null; // the last sale's fields, for the partial offer only

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  keyField.value = newKey();

  function show(answer) {
    // The same look for every outcome: nothing tells the queue that a payment failed.
    headline.textContent = answer.headline || "";
    detail.textContent = answer.detail || "";
    reason.textContent = answer.reason || "";
    partialButton.hidden = !answer.offer_partial;
    result.hidden = false;
    form.hidden = true;
    (answer.offer_partial ? partialButton : nextButton).focus();
  }

  function send(data) {
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    partialButton.disabled = true;
    return fetch(form.action, { method: "POST", body: data, credentials: "same-origin",
                                headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        show(answer);
        if (!answer.offer_partial) last = null;
      })
      .catch(function () { show({ headline: form.dataset.offline || "…", reason: "" }); })
      .then(function () { button.disabled = false; partialButton.disabled = false; });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    last = new FormData(form);
    send(last);
  });

  partialButton.addEventListener("click", function () {
    if (!last) return;
    // Same sale, same key: a declined attempt does not use the key up.
    last.set("partial", "1");
    send(last);
  });

  nextButton.addEventListener("click", function () {
    last = null;
    form.reset();
    keyField.value = newKey();
    result.hidden = true;
    form.hidden = false;
    document.getElementById("card").focus();
    window.location.reload();
  });

  // --- QR scanning -----------------------------------------------------------------
  var scan = document.getElementById("scan");
  var video = document.getElementById("camera");
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  scan.hidden = false;
  scan.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      var stop = function () { stream.getTracks().forEach(function (t) { t.stop(); }); video.hidden = true; };
      var look = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            document.getElementById("card").value = codes[0].rawValue;
            stop();
            document.getElementById("amount").focus();
          } else if (!video.hidden) {
            setTimeout(look, 250);
          }
        }).catch(function () { setTimeout(look, 500); });
      };
      look();
    }).catch(function () { scan.hidden = true; });
  });
})();
