// Page behaviour without inline script (the Content-Security-Policy allows scripts from /static/ only).
// A <select data-autosubmit> sends its form when changed (the language menu).
document.addEventListener("change", function (event) {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.submit();
  }
});
