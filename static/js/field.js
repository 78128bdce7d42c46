/* Field recording and dependent lists (no inline script: loaded from base.html).
 * [data-geolocate]: fills the form's [data-geo=latitude|longitude] inputs from the phone's position.
 * select[data-kind-map]: offers only the sub-kinds of the chosen kind.
 * select[data-people-url]: lists only the people of the chosen responsible unit. */
(function () {
  "use strict";

  function initGeolocate(button) {
    var form = button.form || button.closest("form");
    var status = button.parentNode.querySelector("[data-geolocate-status]");
    function say(key) { if (status) { status.textContent = button.getAttribute(key) || ""; } }
    button.addEventListener("click", function () {
      if (!navigator.geolocation) { say("data-unsupported"); return; }
      say("data-busy");
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.querySelector("[data-geo=latitude]").value = pos.coords.latitude.toFixed(6);
        form.querySelector("[data-geo=longitude]").value = pos.coords.longitude.toFixed(6);
        say("data-done");
      }, function () { say("data-failed"); }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  function initSubKinds(select) {
    var form = select.form;
    var kind = form && form.elements[select.getAttribute("data-depends-on")];
    if (!kind) { return; }
    var map = JSON.parse(select.getAttribute("data-kind-map"));
    function narrow() {
      var allowed = map[kind.value] || [];
      Array.prototype.forEach.call(select.options, function (option) {
        var ok = allowed.indexOf(option.value) >= 0;
        option.hidden = !ok;
        option.disabled = !ok;
      });
      if (allowed.indexOf(select.value) < 0) { select.value = allowed.length ? allowed[allowed.length - 1] : ""; }
    }
    kind.addEventListener("change", narrow);
    narrow();
  }

  function initPeople(select) {
    var form = select.form;
    var unit = form && form.elements[select.getAttribute("data-people-of")];
    if (!unit) { return; }
    var url = select.getAttribute("data-people-url");
    unit.addEventListener("change", function () {
      var blank = select.options.length ? select.options[0].cloneNode(true) : document.createElement("option");
      blank.value = "";
      if (!unit.value) { select.textContent = ""; select.appendChild(blank); return; }
      fetch(url + "?unit=" + encodeURIComponent(unit.value), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) {
          select.textContent = "";
          select.appendChild(blank);
          (data.results || []).forEach(function (person) {
            var option = document.createElement("option");
            option.value = person.id;
            option.textContent = person.name;
            select.appendChild(option);
          });
        });
    });
  }

  function init() {
    document.querySelectorAll("[data-geolocate]").forEach(initGeolocate);
    document.querySelectorAll("select[data-kind-map]").forEach(initSubKinds);
    document.querySelectorAll("select[data-people-url]").forEach(initPeople);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
