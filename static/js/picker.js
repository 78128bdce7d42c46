/* Type-ahead pickers (no inline script: loaded from base.html).
 * [data-picker]: a grid node by name or code over grids:node_search ("id" mode fills a hidden id,
 * "name" mode puts the name, or the code when names repeat, in the text box itself).
 * [data-resident-picker]: residents in scope; each pick adds a removable chip with a hidden id. */
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; });
  }

  function withQuery(url, text) {
    return url + (url.indexOf("?") >= 0 ? "&" : "?") + "q=" + encodeURIComponent(text);
  }

  function setupList(box, text, list, url, describe, choose) {
    var items = [];
    var active = -1;
    function close() { list.hidden = true; text.setAttribute("aria-expanded", "false"); active = -1; }
    function highlight(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, j) {
        li.setAttribute("aria-selected", j === i ? "true" : "false");
      });
    }
    function render(results, capped) {
      items = results;
      list.textContent = "";
      results.forEach(function (item, i) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.textContent = describe(item);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(item, results); close(); });
        li.addEventListener("mouseover", function () { highlight(i); });
        list.appendChild(li);
      });
      if (!results.length) {
        var none = document.createElement("li");
        none.className = "muted";
        none.textContent = box.getAttribute("data-empty") || "—";
        list.appendChild(none);
      } else if (capped) {
        var more = document.createElement("li");
        more.className = "muted";
        more.textContent = "…";
        list.appendChild(more);
      }
      list.hidden = false;
      text.setAttribute("aria-expanded", "true");
    }
    var search = debounce(function () {
      var value = text.value.trim();
      if (!value) { close(); return; }
      fetchJSON(withQuery(url, value)).then(function (data) {
        if (text.value.trim() === value) { render(data.results || [], data.capped); }
      });
    }, 200);
    text.addEventListener("input", search);
    text.addEventListener("blur", close);
    text.addEventListener("keydown", function (e) {
      if (list.hidden || !items.length) { return; }
      if (e.key === "ArrowDown") { e.preventDefault(); highlight(Math.min(active + 1, items.length - 1)); }
      else if (e.key === "ArrowUp") { e.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if (e.key === "Enter" && active >= 0) { e.preventDefault(); choose(items[active], items); close(); }
      else if (e.key === "Escape") { close(); }
    });
  }

  function nodeLabel(n) {
    return n.name + " · " + n.code + (n.parent ? " · " + n.parent : "") + " (" + n.kind + ")";
  }

  function initGrid(box) {
    var text = box.querySelector("[data-picker-text]");
    var hidden = box.querySelector("[data-picker-value]");
    var list = box.querySelector(".picker-list");
    var mode = box.getAttribute("data-picker");
    if (hidden) {
      text.addEventListener("input", function () { hidden.value = ""; });
    }
    setupList(box, text, list, box.getAttribute("data-url"), nodeLabel, function (node, all) {
      if (mode === "id") {
        hidden.value = node.id;
        text.value = node.name;
        hidden.dispatchEvent(new Event("change", { bubbles: true }));
      } else {
        var twins = all.filter(function (n) { return n.name === node.name; }).length > 1;
        text.value = twins ? node.code : node.name;
      }
    });
  }

  function initResidents(box) {
    var text = box.querySelector("[data-picker-text]");
    var list = box.querySelector(".picker-list");
    var chips = box.querySelector(".chips");
    var name = box.getAttribute("data-name");
    function removable(chip) {
      var button = chip.querySelector("button");
      if (button) { button.addEventListener("click", function () { chip.remove(); }); }
    }
    Array.prototype.forEach.call(chips.children, removable);
    setupList(box, text, list, box.getAttribute("data-url"), function (r) {
      return r.name + " · " + r.household + " · " + r.plot;
    }, function (r) {
      if (chips.querySelector("input[value='" + r.id + "']")) { text.value = ""; return; }
      var chip = document.createElement("span");
      chip.className = "chip";
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = r.id;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.setAttribute("aria-label", box.getAttribute("data-remove") || "×");
      button.textContent = "×";
      chip.appendChild(input);
      chip.appendChild(document.createTextNode(r.name + " (" + r.household + ") "));
      chip.appendChild(button);
      chips.appendChild(chip);
      removable(chip);
      text.value = "";
    });
  }

  function init(root) {
    root.querySelectorAll("[data-picker]").forEach(initGrid);
    root.querySelectorAll("[data-resident-picker]").forEach(initResidents);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
})();
