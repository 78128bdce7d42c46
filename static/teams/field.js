/* Field pages on a phone: visits are queued in IndexedDB (with their photos) and sent to
 * /api/v1/visits/ when the network is there, each exactly once (a client-made id). A visit the server
 * refuses stays in the queue, marked with the server's reason. No inline script: CSP-safe. */
(function () {
  "use strict";
  var DB_NAME = "ruian-field";
  var STORE = "visits";
  var SENT_KEY = "ruian-field-sent";
  var API = "/api/v1/visits/";
  var queueEl = document.getElementById("queue");
  var form = document.getElementById("visit-form");
  var syncing = false;

  function text(key) {
    return (queueEl && queueEl.dataset[key]) || key;
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "client_id" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(result && "result" in result ? result.result : result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }

  function allItems() { return withStore("readonly", function (s) { return s.getAll(); }); }
  function putItem(item) { return withStore("readwrite", function (s) { s.put(item); }); }
  function dropItem(id) { return withStore("readwrite", function (s) { s["delete"](id); }); }

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function sentList() {
    try { return JSON.parse(localStorage.getItem(SENT_KEY) || "[]"); } catch (e) { return []; }
  }

  function remember(item, body) {
    var list = sentList();
    list.unshift({ id: body.id, label: item.label, outcome: item.outcome, already: body.status === "already_stored" });
    localStorage.setItem(SENT_KEY, JSON.stringify(list.slice(0, 5)));
  }

  function reasonOf(body) {
    if (!body) return "";
    if (typeof body === "string") return body;
    if (Array.isArray(body)) return body.join(" ");
    if (body.detail) return String(body.detail);
    var parts = [];
    Object.keys(body).forEach(function (k) {
      var v = body[k];
      parts.push(Array.isArray(v) ? v.join(" ") : String(v));
    });
    return parts.join(" ");
  }

  function el(tag, cls, content) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (content) node.textContent = content;
    return node;
  }

  function render() {
    if (!queueEl) return Promise.resolve();
    return allItems().then(function (items) {
      var sent = sentList();
      queueEl.textContent = "";
      queueEl.hidden = !items.length && !sent.length && navigator.onLine;
      if (!navigator.onLine) queueEl.appendChild(el("p", "offline-note", text("offline")));
      if (items.length) {
        queueEl.appendChild(el("h2", "", text("title") + " (" + items.length + ")"));
        var ul = el("ul", "taplist waiting");
        items.forEach(function (item) {
          var li = el("li", "queued " + item.status);
          li.dataset.clientId = item.client_id;
          li.appendChild(el("strong", "", item.label));
          li.appendChild(el("span", "muted", " " + item.visited_on + " · "));
          var state = item.status === "refused" ? text("refused") + ": " + item.reason : text("waiting");
          li.appendChild(el("span", "state", state));
          if (item.status === "refused") {
            var retry = el("button", "btn secondary retry", text("retry"));
            retry.type = "button";
            retry.addEventListener("click", function () {
              item.status = "waiting"; item.reason = "";
              putItem(item).then(render).then(sync);
            });
            var discard = el("button", "btn secondary discard", text("discard"));
            discard.type = "button";
            discard.addEventListener("click", function () { dropItem(item.client_id).then(render); });
            li.appendChild(retry);
            li.appendChild(discard);
          }
          ul.appendChild(li);
        });
        queueEl.appendChild(ul);
      }
      if (sent.length) {
        queueEl.appendChild(el("h2", "", text("sent")));
        var list = el("ul", "taplist sent");
        sent.forEach(function (s) {
          var li = el("li", "");
          var a = el("a", "", s.label + " · " + (s.already ? text("already") : text("stored")));
          a.href = visitUrl(s.id);
          li.appendChild(a);
          list.appendChild(li);
        });
        queueEl.appendChild(list);
      }
    });
  }

  function visitUrl(id) {
    var base = (form && form.dataset.visitUrl) || "/field/visits/0/";
    return base.replace(/0\/$/, id + "/");
  }

  function send(item) {
    var data = new FormData();
    ["client_id", "household", "visited_on", "seen", "heard", "outcome", "resolution"].forEach(function (k) {
      data.append(k, item[k] || "");
    });
    if (typeof item.tags === "number") data.append("tags", String(item.tags));
    (item.photos || []).forEach(function (p) { data.append("photos", p.blob, p.name); });
    return fetch(API, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (response.status === 200 || response.status === 201) {
          remember(item, body || {});
          return dropItem(item.client_id);
        }
        if (response.status >= 400 && response.status < 500 && response.status !== 401 && response.status !== 408 && response.status !== 429) {
          item.status = "refused";
          item.reason = reasonOf(body) || String(response.status);
          return putItem(item);
        }
        return null; // the server is unwell or signed out: keep it waiting
      });
    });
  }

  function sync() {
    if (syncing || !navigator.onLine) return render();
    syncing = true;
    return allItems().then(function (items) {
      var chain = Promise.resolve();
      items.filter(function (i) { return i.status !== "refused"; }).forEach(function (item) {
        chain = chain.then(function () { return send(item); });
      });
      return chain;
    }).catch(function () { /* offline again: the queue keeps them */ })
      .then(function () { syncing = false; return render(); });
  }

  function showError(message) {
    var p = form.querySelector(".form-error");
    p.textContent = message;
    p.hidden = !message;
  }

  function onSubmit(event) {
    event.preventDefault();
    var select = form.elements.household;
    if (!select.value) { showError(select.closest("label").textContent.trim()); select.focus(); return; }
    showError("");
    var files = Array.prototype.slice.call(form.elements.photos.files || []);
    var outcome = form.querySelector("input[name=outcome]:checked");
    var item = {
      client_id: form.dataset.clientId,
      household: select.value,
      label: select.options[select.selectedIndex].textContent.trim(),
      visited_on: form.elements.visited_on.value,
      seen: form.elements.seen.value,
      heard: form.elements.heard.value,
      outcome: outcome ? outcome.value : "routine",
      resolution: form.elements.resolution.value,
      tags: tagsChanged(select),
      photos: files.map(function (f) { return { name: f.name, type: f.type, blob: f }; }),
      status: "waiting",
      reason: "",
      queued_at: new Date().toISOString()
    };
    putItem(item).then(function () {
      var day = form.elements.visited_on.value;
      form.reset();
      form.elements.visited_on.value = day;
      form.dataset.clientId = newId();
      showTags();
      return sync();
    });
  }

  function tagBoxes() {
    return Array.prototype.slice.call(form.querySelectorAll("input[name=tags]"));
  }

  function householdTags(select) {
    var option = select.options[select.selectedIndex];
    return option && option.dataset.tags ? parseInt(option.dataset.tags, 10) || 0 : 0;
  }

  function showTags() {
    // The boxes show the chosen household's tags as the registry has them.
    var mask = householdTags(form.elements.household);
    tagBoxes().forEach(function (box) { box.checked = (mask & parseInt(box.value, 10)) !== 0; });
  }

  function tagsChanged(select) {
    // The new tags when the member changed a box, else null (the visit changes no record).
    var before = householdTags(select);
    var after = 0;
    tagBoxes().forEach(function (box) { if (box.checked) after |= parseInt(box.value, 10); });
    var known = tagBoxes().reduce(function (all, box) { return all | parseInt(box.value, 10); }, 0);
    return (before & known) === after ? null : (before & ~known) | after;
  }

  function preselect() {
    var m = location.hash.match(/^#h=(\d+)$/);
    if (form && m) form.elements.household.value = m[1];
    if (form) showTags();
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/field/sw.js", { scope: "/field/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      var urls = ["/field/", "/field/visit/"];
      document.querySelectorAll("link[rel=stylesheet][href], script[src]").forEach(function (n) {
        urls.push(n.getAttribute("href") || n.getAttribute("src"));
      });
      if (registration.active) registration.active.postMessage({ type: "cache", urls: urls });
    }).catch(function () { /* no service worker: the pages still work online */ });
  }

  if (form) {
    form.dataset.clientId = newId();
    form.addEventListener("submit", onSubmit);
    form.elements.household.addEventListener("change", showTags);
    window.addEventListener("hashchange", preselect);
    preselect();
  }
  window.addEventListener("online", sync);
  window.addEventListener("offline", render);
  sync();
})();
