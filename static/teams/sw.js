/* Service worker for the field pages (/field/): pages network-first with the cached copy when there
 * is no network; static files cache-first. Visits are not sent from here: the page queues them in
 * IndexedDB and sends them when it is online (field.js). */
"use strict";
var CACHE = "ruian-field-v1";
var PAGES = ["/field/", "/field/visit/"];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return Promise.all(PAGES.map(function (url) {
        return fetch(url, { credentials: "same-origin" }).then(function (r) {
          if (r.ok && !r.redirected) return cache.put(url, r);
        }).catch(function () {});
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "cache" || !Array.isArray(data.urls)) return;
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(data.urls.map(function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (r) {
        if (r.ok && !r.redirected) return cache.put(url, r);
      }).catch(function () {});
    }));
  }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request).then(function (hit) {
      return hit || fetch(request).then(function (r) {
        if (r.ok) { var copy = r.clone(); caches.open(CACHE).then(function (c) { c.put(request, copy); }); }
        return r;
      });
    }));
    return;
  }
  if (url.pathname.indexOf("/field/") === 0 && request.mode === "navigate") {
    var key = url.pathname;
    event.respondWith(fetch(request).then(function (r) {
      if (r.ok && !r.redirected) { var copy = r.clone(); caches.open(CACHE).then(function (c) { c.put(key, copy); }); }
      return r;
    }).catch(function () {
      return caches.match(key).then(function (hit) { return hit || Response.error(); });
    }));
  }
});
