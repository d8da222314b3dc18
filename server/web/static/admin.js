// The admin pages' small behaviours (no inline scripts: the pages' Content-Security-Policy).
// A link marked data-print prints the page (a resident's data, handed over on paper).
document.addEventListener("click", (event) => {
  const link = event.target.closest("[data-print]");
  if (link) {
    event.preventDefault();
    window.print();
  }
});
