/* The secretariat's scanning page: camera → jsQR → a queue in localStorage → the server.
 *
 * Every scan gets its nonce and its time when it is read, and goes into the queue first; the
 * queue is sent in order and an item leaves it only when the server has answered (accepted or
 * refused). So a scan made while the network is down is sent later with its original time, and
 * one sent twice is counted once (the server keys scans by nonce).
 */
(function () {
  "use strict";

  var root = document.getElementById("check-in");
  if (!root) {
    return;
  }
  var QUEUE_KEY = "corsipa.check-in.queue";
  // The same code in the same mode is not sent again for this long (ms): it is still in view.
  // (The server also ignores the same person scanned again within a minute.)
  var DEBOUNCE_MS = 10000;
  var SCAN_EVERY_MS = 200;
  var RETRY_EVERY_MS = 15000;
  var POLL_EVERY_MS = 10000;

  var video = document.getElementById("check-in-video");
  var canvas = document.getElementById("check-in-canvas");
  var result = document.getElementById("check-in-result");
  var insideCount = document.getElementById("check-in-inside");
  var queueCount = document.getElementById("check-in-queue");
  var cameraButton = document.getElementById("check-in-camera");
  var cameraStatus = document.getElementById("check-in-camera-status");
  var msg = root.dataset;

  var stream = null;
  var timer = null;
  var lastKey = "";
  var lastAt = -Infinity;
  var flushing = false;

  function newNonce() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function loadQueue() {
    try {
      var items = JSON.parse(window.localStorage.getItem(QUEUE_KEY) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (error) {
      return [];
    }
  }

  function saveQueue(items) {
    window.localStorage.setItem(QUEUE_KEY, JSON.stringify(items));
    queueCount.textContent = String(items.length);
  }

  function mode() {
    var checked = root.querySelector("input[name='mode']:checked");
    return checked ? checked.value : "entry";
  }

  // state: "success", "danger" (refused) or "warning" (waiting in the queue).
  function show(text, state) {
    result.textContent = text;
    result.className = "check-in-result alert alert-" + state;
  }

  function post(item) {
    return window.fetch(item.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": msg.csrf },
      body: JSON.stringify({
        token: item.token,
        kind: item.kind,
        nonce: item.nonce,
        scanned_at: item.scanned_at
      })
    });
  }

  function flush() {
    if (flushing) {
      return;
    }
    var items = loadQueue();
    if (!items.length) {
      queueCount.textContent = "0";
      return;
    }
    flushing = true;
    var item = items[0];
    post(item)
      .then(function (response) {
        if (response.status >= 500) {
          // A server hiccup: keep the scan and try again later.
          throw new Error("retry");
        }
        var type = response.headers.get("Content-Type") || "";
        if (response.redirected || response.status === 403 || type.indexOf("json") === -1) {
          // An expired sign-in (redirected to the login page) or a CSRF token rotated by a new
          // sign-in: keep the scan, and tell the operator what to do.
          throw new Error("signed-out");
        }
        return response.json().then(function (data) {
          // Answered, accepted or refused: the scan leaves the queue either way.
          saveQueue(loadQueue().filter(function (queued) {
            return queued.nonce !== item.nonce;
          }));
          show(data.message || msg.msgError, data.ok ? "success" : "danger");
          if (typeof data.inside === "number" && item.url === msg.scanUrl) {
            insideCount.textContent = String(data.inside);
          }
        });
      })
      .then(function () {
        flushing = false;
        flush();
      })
      .catch(function (error) {
        flushing = false;
        show(error && error.message === "signed-out" ? msg.msgSignedOut : msg.msgQueued, "warning");
        queueCount.textContent = String(loadQueue().length);
      });
  }

  function enqueue(token) {
    var items = loadQueue();
    items.push({
      url: msg.scanUrl,
      token: token,
      kind: mode(),
      nonce: newNonce(),
      scanned_at: new Date().toISOString()
    });
    saveQueue(items);
    flush();
  }

  function onCode(text) {
    var key = text + "|" + mode();
    var now = window.performance.now();
    if (key === lastKey && now - lastAt < DEBOUNCE_MS) {
      return;
    }
    lastKey = key;
    lastAt = now;
    enqueue(text);
  }

  function scanFrame() {
    if (!stream) {
      return;
    }
    if (video.readyState >= video.HAVE_CURRENT_DATA && video.videoWidth) {
      // Decoding a smaller copy is fast enough on a phone and reads a code held at arm's length.
      var scale = Math.min(1, 640 / video.videoWidth);
      var width = Math.round(video.videoWidth * scale);
      var height = Math.round(video.videoHeight * scale);
      canvas.width = width;
      canvas.height = height;
      var context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0, width, height);
      var image = context.getImageData(0, 0, width, height);
      var code = window.jsQR(image.data, width, height, { inversionAttempts: "dontInvert" });
      if (code && code.data) {
        onCode(code.data);
      }
    }
    timer = window.setTimeout(scanFrame, SCAN_EVERY_MS);
  }

  function stopCamera() {
    if (stream) {
      stream.getTracks().forEach(function (track) {
        track.stop();
      });
    }
    stream = null;
    window.clearTimeout(timer);
    video.srcObject = null;
    video.hidden = true;
    cameraButton.textContent = msg.msgStart;
    cameraStatus.textContent = msg.msgCameraOff;
  }

  function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      cameraStatus.textContent = msg.msgCameraError;
      return;
    }
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        return video.play();
      })
      .then(function () {
        cameraButton.textContent = msg.msgStop;
        cameraStatus.textContent = msg.msgCameraOn;
        scanFrame();
      })
      .catch(function () {
        stopCamera();
        cameraStatus.textContent = msg.msgCameraError;
      });
  }

  function pollInside() {
    window.fetch(msg.insideUrl, { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && typeof data.inside === "number") {
          insideCount.textContent = String(data.inside);
        }
      })
      .catch(function () {
        /* offline: the count shows the last known value */
      });
  }

  cameraButton.addEventListener("click", function () {
    if (stream) {
      stopCamera();
    } else {
      startCamera();
    }
  });
  window.addEventListener("online", flush);
  window.setInterval(flush, RETRY_EVERY_MS);
  window.setInterval(pollInside, POLL_EVERY_MS);
  queueCount.textContent = String(loadQueue().length);
  flush();
})();
