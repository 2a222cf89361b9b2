// Recovery pages: let HTMX swap in the flag card that a refused resolve (422) or a stale action (409) returns,
// so the clinician sees the message in place. Without JavaScript the forms post and redirect as usual.
document.addEventListener("htmx:beforeSwap", function (event) {
  const status = event.detail.xhr.status;
  if (status === 422 || status === 409) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
