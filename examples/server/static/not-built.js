// Tells the visitor when the package is not built: the page's module script (the one marked
// data-needs-package) fails to load. A classic script placed after it runs before that deferred
// module, so the listener is there in time. A file of its own: the demos run under a
// Content-Security-Policy that allows no inline script.
for (const script of document.querySelectorAll("script[data-needs-package]")) {
  script.addEventListener("error", () => {
    const status = document.getElementById("status");
    if (!status) return;
    status.textContent = "package not built";
    status.title = script.dataset.needsPackage;
    if (status.hasAttribute("data-state")) status.setAttribute("data-state", "error");
    else status.className = "status status-error";
  });
}
