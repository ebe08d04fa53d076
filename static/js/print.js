// A "Print" button without inline script (the Content-Security-Policy forbids it).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) window.print();
});
