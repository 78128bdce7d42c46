// Signing out clears what the field pages keep on this device for this origin: the pages cached by
// the service worker (Cache Storage), the offline visit queue (IndexedDB), the list of visits sent
// (localStorage) and the service worker itself; then the sign-out form is sent. Visits still waiting
// to be sent are lost, so the person is asked first. Static file: no inline script (strict CSP).
(function () {
  "use strict";
  var FIELD_DB = "ruian-field";

  function unsentCount() {
    // How many visits wait in the queue (0 when there is no queue on this device).
    return new Promise(function (resolve) {
      if (!window.indexedDB) return resolve(0);
      var req = indexedDB.open(FIELD_DB);
      req.onupgradeneeded = function () { req.transaction.abort(); resolve(0); };
      req.onerror = function () { resolve(0); };
      req.onsuccess = function () {
        var db = req.result;
        if (!db.objectStoreNames.contains("visits")) { db.close(); return resolve(0); }
        var count = db.transaction("visits", "readonly").objectStore("visits").count();
        count.onsuccess = function () { db.close(); resolve(count.result); };
        count.onerror = function () { db.close(); resolve(0); };
      };
    });
  }

  function deleteDb(name) {
    return new Promise(function (resolve) {
      var req = indexedDB.deleteDatabase(name);
      req.onsuccess = req.onerror = req.onblocked = function () { resolve(); };
    });
  }

  function clearDevice() {
    var work = [];
    if (window.caches) {
      work.push(caches.keys().then(function (keys) {
        return Promise.all(keys.map(function (k) { return caches.delete(k); }));
      }));
    }
    if (window.indexedDB) {
      var names = indexedDB.databases
        ? indexedDB.databases().then(function (dbs) { return dbs.map(function (d) { return d.name; }); })
        : Promise.resolve([FIELD_DB]);
      work.push(names.then(function (list) {
        if (list.indexOf(FIELD_DB) < 0) list.push(FIELD_DB);
        return Promise.all(list.map(deleteDb));
      }));
    }
    if (navigator.serviceWorker && navigator.serviceWorker.getRegistrations) {
      work.push(navigator.serviceWorker.getRegistrations().then(function (regs) {
        return Promise.all(regs.map(function (r) { return r.unregister(); }));
      }));
    }
    try { window.localStorage.clear(); window.sessionStorage.clear(); } catch (e) { /* storage disabled */ }
    return Promise.all(work.map(function (p) { return p.catch(function () {}); }));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-signout") || form.dataset.cleared) return;
    event.preventDefault();
    unsentCount().then(function (n) {
      if (n > 0 && !window.confirm((form.dataset.unsentWarning || "").replace("{n}", String(n)))) return;
      return clearDevice().then(function () {
        form.dataset.cleared = "1";
        form.submit();
      });
    });
  });
})();
