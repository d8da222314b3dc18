// The label page's print button: opens the browser's print dialog (no inline script: CSP).
document.querySelectorAll(".print-button").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
