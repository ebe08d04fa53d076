// The few behaviours pages need, without inline script (the Content-Security-Policy
// forbids it): a Print button, a confirmation before a form is sent, a setting saved
// as soon as it is ticked. Each page says which with a data- attribute.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
  document.addEventListener("change", function (event) {
    if (event.target.hasAttribute("data-autosubmit")) event.target.form.submit();
  });
})();
