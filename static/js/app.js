// Small progressive enhancements; the pages work without them. No inline handlers (CSP).
(function () {
  "use strict";

  // Mobile navigation toggle.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-nav-toggle]");
    if (!toggle) return;
    var nav = document.getElementById(toggle.getAttribute("aria-controls"));
    var open = nav.classList.toggle("open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // The account menu (<details>) closes on a click elsewhere and on Escape, like a real menu.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
    var toggle = document.querySelector("[data-nav-toggle][aria-expanded='true']");
    if (toggle) {
      document.getElementById(toggle.getAttribute("aria-controls")).classList.remove("open");
      toggle.setAttribute("aria-expanded", "false");
      toggle.focus();
    }
  });

  // Busy state on submit buttons of plain (non-htmx) forms, so double submits are visible.
  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("[data-busy-label]");
    if (!button || event.target.hasAttribute("hx-post")) return;
    button.classList.add("is-busy");
    button.setAttribute("aria-busy", "true");
    button.textContent = button.getAttribute("data-busy-label");
  });

  // Copy buttons: <button data-copy="#selector">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.value || source.textContent.trim()).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });

  // Confirmation for destructive buttons: <button data-confirm="Are you sure?">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
  }, true);

  // Remove buttons that need no server: <button data-remove-closest=".cv-row"
  // data-remove-focus="#add-experience">. The element goes from the page only (the form is
  // saved explicitly); focus moves to data-remove-focus so keyboard users are not left nowhere.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-closest]");
    if (!button) return;
    var target = button.closest(button.getAttribute("data-remove-closest"));
    if (!target) return;
    var list = target.parentElement;
    var focusAfter = button.getAttribute("data-remove-focus");
    target.remove();
    // Leftover whitespace would stop :empty from hiding a list with no rows left.
    if (list && !list.children.length) list.textContent = "";
    var next = focusAfter && document.querySelector(focusAfter);
    if (next) next.focus();
  });

  // A CV row added with htmx: put the cursor in its first field, where the member will type.
  document.addEventListener("htmx:afterSwap", function (event) {
    var list = event.detail.target;
    if (!list.classList || !list.classList.contains("cv-rows")) return;
    var rows = list.querySelectorAll(".cv-row");
    var first = rows.length && rows[rows.length - 1].querySelector("input, textarea, select");
    if (first) first.focus();
  });

  // Bring the first invalid field into view and put the cursor in it. The centre of the
  // screen, so that the sticky header does not hide it.
  function focusFirstInvalid(root) {
    var invalid = root && root.querySelector("[aria-invalid='true']");
    if (!invalid) return false;
    invalid.focus({ preventScroll: true });
    invalid.scrollIntoView({ block: "center" });
    return true;
  }

  // The error summary's links: following a link to an input scrolls but does not always focus it.
  document.addEventListener("click", function (event) {
    var link = event.target.closest(".error-summary a[href^='#']");
    var field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    field.focus({ preventScroll: true });
    field.scrollIntoView({ block: "center" });
  });

  // A page answered after a refused plain form: start at the first field to fix.
  focusFirstInvalid(document);

  // After htmx swaps in an error response, move focus to the first invalid field. An outerHTML
  // swap replaces its target, so look in the new content (the element the event fires on).
  // Otherwise a swapped-in confirmation marked data-reveal ("CV saved.") is scrolled into view,
  // since the member clicked a button far below it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    var root = target && target.isConnected ? target : event.target;
    if (focusFirstInvalid(root)) return;
    var message = root && root.querySelector && root.querySelector("[data-reveal]");
    if (message) message.scrollIntoView({ block: "center" });
  });
})();
