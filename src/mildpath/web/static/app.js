// mildpath's only script besides HTMX: progressive enhancement, never required to use a page.
document.addEventListener("click", function (event) {
  const el = event.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) { event.preventDefault(); }
});
document.addEventListener("click", function (event) {
  const el = event.target.closest("[data-print]");
  if (el) { event.preventDefault(); window.print(); }
});
