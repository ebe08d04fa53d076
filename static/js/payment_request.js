// The shop's payment-request screen: asks the server for the request's status until it
// is paid, expired or cancelled, and shows it without a reload. Nothing of the member
// comes back: the status, the amount paid, the time.
(function () {
  "use strict";
  var root = document.getElementById("payment-request");
  if (!root) return;
  var url = root.getAttribute("data-status-url");
  var open = document.getElementById("request-open");
  var headline = root.querySelector("[data-testid=request-status]");
  var detail = root.querySelector("[data-testid=request-detail]");
  var at = root.querySelector("[data-testid=request-at]");

  function show(state) {
    root.setAttribute("data-status", state.status);
    headline.textContent = state.headline || "";
    detail.textContent = state.detail || "";
    at.textContent = state.at ? " · " + state.at : "";
    if (state.status !== "pending") open.hidden = true;
  }

  function poll() {
    if (root.getAttribute("data-status") !== "pending") return;
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin", cache: "no-store"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) { if (state) show(state); })
      .catch(function () { /* the network came and went: try again at the next tick */ })
      .then(function () { setTimeout(poll, 1500); });
  }
  setTimeout(poll, 1500);
})();
