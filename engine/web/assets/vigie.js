// vigie serve: the page behaviour, plain JavaScript (no framework, nothing fetched from
// elsewhere; embedded in the binary). Loaded with `defer`; no inline script anywhere
// (the Content-Security-Policy forbids it).
"use strict";

(function () {
  // ---- print ---------------------------------------------------------------------------
  document.querySelectorAll("[data-action=print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });

  // ---- colour swatches follow their select ---------------------------------------------
  document.querySelectorAll("[data-swatch-for]").forEach(function (sw) {
    var sel = document.getElementById(sw.getAttribute("data-swatch-for"));
    if (!sel) return;
    sel.addEventListener("change", function () { sw.className = "swatch sw-" + sel.value; });
  });

  // ---- background work: poll the case's job -------------------------------------------
  var job = document.getElementById("job");
  if (job) {
    var jobUrl = job.getAttribute("data-url");
    var none = job.getAttribute("data-none");
    var fmt = function (s) {
      if (s === null || s === undefined) return "—";
      s = Math.round(s);
      return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    };
    var render = function (j) {
      job.textContent = "";
      if (!j || j.phase === "none") { job.textContent = none; return; }
      var head = document.createElement("p");
      head.id = "job-phase";
      head.setAttribute("data-phase", j.phase);
      head.textContent = j.phase + (j.message ? ": " + j.message : "");
      job.appendChild(head);
      var sum = document.createElement("p");
      sum.id = "job-summary";
      sum.textContent = "ingested " + (j.ingested || []).length + " · analysed " + (j.analysed || []).length +
        " · already analysed " + (j.already_analysed || []).length + " · failed " + (j.failed || []).length;
      job.appendChild(sum);
      var t = document.createElement("table");
      t.id = "job-files";
      var hr = t.insertRow();
      ["", "file", "frames", "fps", "%", "ETA"].forEach(function (h) {
        var th = document.createElement("th"); th.textContent = h; hr.appendChild(th);
      });
      (j.files || []).forEach(function (f) {
        var r = t.insertRow();
        r.setAttribute("data-test", "job-file");
        var pct = f.total_ms ? Math.min(100, Math.round(100 * f.pts_ms / f.total_ms)) : null;
        [f.phase, f.unit, String(f.frames), f.fps.toFixed(1),
         f.done ? (f.ok ? "done" : "failed") : (pct === null ? "…" : pct + " %"),
         f.done ? "" : fmt(f.eta_s)].forEach(function (v) { r.insertCell().textContent = v; });
      });
      job.appendChild(t);
      (j.failed || []).forEach(function (f) {
        var p = document.createElement("p");
        p.className = "notice error";
        p.setAttribute("data-test", "job-failure");
        p.textContent = f[0] + ": " + f[1];
        job.appendChild(p);
      });
    };
    var poll = function () {
      fetch(jobUrl, { headers: { "X-Vigie-Poll": "1", "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) {
          render(j);
          var running = j && (j.phase === "ingest" || j.phase === "analyse");
          setTimeout(poll, running ? 1000 : 5000);
        })
        .catch(function () { setTimeout(poll, 5000); });
    };
    poll();
  }

  // ---- player: frames rendered by the server, a few per second --------------------------
  var player = document.getElementById("player");
  if (player) {
    var img = document.getElementById("player-frame");
    var playBtn = document.getElementById("player-play");
    var seek = document.getElementById("player-seek");
    var label = document.getElementById("player-time");
    var reportAt = document.getElementById("report-at-ms");
    var frameUrl = player.getAttribute("data-frame-url");
    var pickUrl = player.getAttribute("data-pick-url");
    var fps = parseFloat(player.getAttribute("data-fps")) || 25;
    var frameMs = 1000 / fps;
    var stepMs = 200; // playback: 5 rendered frames per second of footage
    var pos = parseInt(player.getAttribute("data-start-ms"), 10) || 0;
    var playing = false, busy = false, lastUrl = null, timer = null;
    var mediaTime = function (ms) {
      var s = Math.floor(ms / 1000);
      return Math.floor(s / 3600) + ":" + String(Math.floor(s / 60) % 60).padStart(2, "0") + ":" +
        String(s % 60).padStart(2, "0") + "." + String(ms % 1000).padStart(3, "0");
    };
    var show = function (at, then) {
      if (busy) return;
      busy = true;
      fetch(frameUrl + "?at_ms=" + Math.max(0, Math.round(at)), { credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) {
            return r.text().then(function () { throw new Error("HTTP " + r.status); });
          }
          var pts = parseInt(r.headers.get("X-Vigie-Pts-Ms"), 10);
          var wall = r.headers.get("X-Vigie-Wall-Ms");
          var boxed = r.headers.get("X-Vigie-Boxed") === "1";
          return r.blob().then(function (b) { return { b: b, pts: pts, wall: wall, boxed: boxed }; });
        })
        .then(function (f) {
          var u = URL.createObjectURL(f.b);
          img.src = u;
          if (lastUrl) URL.revokeObjectURL(lastUrl);
          lastUrl = u;
          pos = isNaN(f.pts) ? at : f.pts;
          img.setAttribute("data-pts-ms", String(pos));
          img.setAttribute("data-boxed", f.boxed ? "1" : "0");
          seek.value = String(pos);
          if (reportAt) reportAt.value = String(pos);
          var text = mediaTime(pos);
          if (f.wall) text += " · " + new Date(parseInt(f.wall, 10)).toISOString().replace(".000Z", "Z");
          label.textContent = text;
          busy = false;
          if (then) then(true);
        })
        .catch(function (e) {
          busy = false;
          label.textContent = String(e.message || e);
          if (then) then(false);
        });
    };
    var tick = function () {
      if (!playing) return;
      var started = Date.now();
      show(pos + stepMs, function (ok) {
        if (!ok) { stop(); return; }
        timer = setTimeout(tick, Math.max(0, stepMs - (Date.now() - started)));
      });
    };
    var stop = function () {
      playing = false;
      if (timer) clearTimeout(timer);
      playBtn.textContent = playBtn.getAttribute("data-play");
      player.setAttribute("data-playing", "0");
    };
    playBtn.addEventListener("click", function () {
      if (playing) { stop(); return; }
      playing = true;
      player.setAttribute("data-playing", "1");
      playBtn.textContent = playBtn.getAttribute("data-pause");
      tick();
    });
    document.getElementById("player-back").addEventListener("click", function () { stop(); show(pos - frameMs); });
    document.getElementById("player-forward").addEventListener("click", function () { stop(); show(pos + frameMs); });
    seek.addEventListener("change", function () { stop(); show(parseInt(seek.value, 10)); });
    if (pickUrl) {
      // Synopsis: a click on an object opens the original footage at its time.
      img.addEventListener("click", function (ev) {
        var r = img.getBoundingClientRect();
        var x = (ev.clientX - r.left) / r.width, y = (ev.clientY - r.top) / r.height;
        fetch(pickUrl + "&t=" + pos + "&x=" + x.toFixed(4) + "&y=" + y.toFixed(4), { credentials: "same-origin" })
          .then(function (res) { return res.json(); })
          .then(function (j) { if (j && j.url) window.location.href = j.url; });
      });
    }
    show(pos);
  }
})();
