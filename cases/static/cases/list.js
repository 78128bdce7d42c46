// On a phone the case list's filters fold behind one button; on a wider screen they stay open.
// Without script they simply stay open (the page renders <details open>).
(function () {
  var narrow = window.matchMedia("(max-width: 600px)");
  function fold() {
    document.querySelectorAll("details.filters-fold").forEach(function (d) {
      d.open = !narrow.matches;
    });
  }
  document.addEventListener("DOMContentLoaded", fold);
  narrow.addEventListener("change", fold);
})();
