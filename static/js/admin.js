// The Django admin, as axe-core asks (issue 19). Django's SelectFilter2.js gives the
// magnifier icon of a two-list selector an aria-label on a plain <span>, which ARIA forbids:
// the icon becomes an image, its label kept. A MutationObserver catches the icons as
// SelectFilter2 adds them (on the page's load), before anyone reads the page.
"use strict";
new MutationObserver(function () {
    document.querySelectorAll(".search-label-icon[aria-label]:not([role])").forEach(function (icon) {
        icon.setAttribute("role", "img");
    });
}).observe(document.documentElement, {childList: true, subtree: true});
