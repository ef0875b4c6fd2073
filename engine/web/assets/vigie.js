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

  // ---- the evidence shown is re-hashed while its first frames are shown -------------------
  // (player and camera view). "verification in progress" until the server says; if the
  // evidence changed, every picture of it goes and the alert takes its place.
  var checkVerification = function () {};
  var verification = document.getElementById("verification-status");
  if (verification) {
    var statusUrl = verification.getAttribute("data-status-url");
    var progressText = verification.textContent;
    var vt = function (k) { return verification.getAttribute("data-t-" + k) || ""; };
    var settled = false, polling = false;
    var stopViews = function (message) {
      settled = true;
      var box = document.getElementById("player-alert");
      if (box) { box.textContent = message; box.hidden = false; }
      document.querySelectorAll("#player-frame, #camera-frame").forEach(function (i) {
        i.removeAttribute("src");
        i.hidden = true;
      });
      document.querySelectorAll("#player button, #player input, #camera-seek").forEach(function (c) {
        c.disabled = true;
      });
      var p = document.getElementById("player");
      if (p) p.setAttribute("data-stopped", "1");
    };
    var setState = function (state, text) {
      verification.setAttribute("data-state", state);
      verification.textContent = text;
    };
    var poll = function () {
      if (settled || polling) return;
      polling = true;
      fetch(statusUrl, { headers: { "X-Vigie-Poll": "1", "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
        .then(function (res) {
          polling = false;
          if (!res.ok) {
            setState("ended", vt("ended"));
            stopViews((res.j && res.j.error) || vt("ended"));
            return;
          }
          var v = res.j.verification || {};
          if (v.state === "in_progress") {
            var pct = v.total_bytes ? Math.floor(100 * v.hashed_bytes / v.total_bytes) : 0;
            setState("in_progress", progressText + " (" + pct + " %)");
            setTimeout(poll, 500);
          } else if (v.state === "verified") {
            settled = true;
            setState("verified", vt("verified"));
          } else if (v.state === "changed" || v.state === "unreadable") {
            setState(v.state, vt(v.state));
            stopViews(vt(v.state) + " " + (v.message || ""));
          } else {
            settled = true;
          }
        })
        .catch(function () { polling = false; setTimeout(poll, 2000); });
    };
    checkVerification = poll;
    poll();
  }

  var mediaTimeOf = function (ms) {
    var s = Math.floor(ms / 1000);
    return Math.floor(s / 3600) + ":" + String(Math.floor(s / 60) % 60).padStart(2, "0") + ":" +
      String(s % 60).padStart(2, "0") + "." + String(ms % 1000).padStart(3, "0");
  };

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
          // A refused frame may be a stopped player: ask why.
          checkVerification();
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

  // ---- camera view: draw zones (polygons) and directional lines on a frame --------------
  // The drawing is kept as JSON in the save form's hidden field, in frame fractions
  // (0..1, origin top-left), the shape the server turns into the camera's scene file.
  var cview = document.getElementById("camera-view");
  if (cview) {
    var cimg = document.getElementById("camera-frame");
    var canvas = document.getElementById("zone-canvas");
    var ctx = canvas.getContext("2d");
    var sceneField = document.getElementById("scene-json");
    var list = document.getElementById("scene-list");
    var noneMsg = document.getElementById("scene-none");
    var dirtyMsg = document.getElementById("zone-dirty");
    var hint = document.getElementById("draw-hint");
    var drawErr = document.getElementById("draw-error");
    var zoneName = document.getElementById("zone-name");
    var lineName = document.getElementById("line-name");
    var modeLine = document.getElementById("mode-line");
    var seekC = document.getElementById("camera-seek");
    var timeC = document.getElementById("camera-time");
    var atField = document.getElementById("zone-at-ms");
    var frameUrlC = cview.getAttribute("data-frame-url");
    var ct = function (k) { return cview.getAttribute("data-t-" + k) || ""; };
    var scene;
    try { scene = JSON.parse(sceneField.value || "{}"); } catch (e) { scene = {}; }
    scene = { zones: scene.zones || [], lines: scene.lines || [] };
    var pending = [];
    var mode = function () { return modeLine.checked ? "line" : "zone"; };
    var round4 = function (v) { return Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000; };
    var px = function (p) { return [p[0] * canvas.width, p[1] * canvas.height]; };
    var text = function (s, at, colour) {
      ctx.font = "bold 14px system-ui, sans-serif";
      ctx.lineWidth = 3;
      ctx.strokeStyle = "#000";
      ctx.strokeText(s, at[0] + 4, at[1] - 4);
      ctx.fillStyle = colour;
      ctx.fillText(s, at[0] + 4, at[1] - 4);
    };
    var draw = function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      scene.zones.forEach(function (z) {
        ctx.beginPath();
        z.polygon.forEach(function (p, i) {
          var q = px(p);
          if (i) ctx.lineTo(q[0], q[1]); else ctx.moveTo(q[0], q[1]);
        });
        ctx.closePath();
        ctx.fillStyle = "rgba(255, 221, 0, 0.22)";
        ctx.fill();
        ctx.lineWidth = 2;
        ctx.strokeStyle = "#ffdd00";
        ctx.stroke();
        if (z.polygon.length) text(z.name, px(z.polygon[0]), "#ffdd00");
      });
      scene.lines.forEach(function (l) {
        var a = px(l.from), b = px(l.to);
        ctx.lineWidth = 3;
        ctx.strokeStyle = "#ff5a5a";
        ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
        // The arrow points to the side a crossing "in" arrives on (the right-hand side
        // walking from `from` to `to`, y pointing down).
        var dx = b[0] - a[0], dy = b[1] - a[1], len = Math.sqrt(dx * dx + dy * dy) || 1;
        var nx = -dy / len, ny = dx / len, m = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
        var tip = [m[0] + nx * 22, m[1] + ny * 22];
        ctx.beginPath(); ctx.moveTo(m[0], m[1]); ctx.lineTo(tip[0], tip[1]);
        ctx.lineTo(tip[0] - nx * 7 + ny * 5, tip[1] - ny * 7 - nx * 5);
        ctx.moveTo(tip[0], tip[1]);
        ctx.lineTo(tip[0] - nx * 7 - ny * 5, tip[1] - ny * 7 + nx * 5);
        ctx.stroke();
        text("in", tip, "#ff5a5a");
        text(l.name, a, "#ff5a5a");
      });
      if (pending.length) {
        ctx.lineWidth = 2;
        ctx.strokeStyle = "#fff";
        ctx.setLineDash([6, 4]);
        ctx.beginPath();
        pending.forEach(function (p, i) {
          var q = px(p);
          if (i) ctx.lineTo(q[0], q[1]); else ctx.moveTo(q[0], q[1]);
        });
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = "#fff";
        pending.forEach(function (p) { var q = px(p); ctx.fillRect(q[0] - 3, q[1] - 3, 6, 6); });
      }
      canvas.setAttribute("data-zones", String(scene.zones.length));
      canvas.setAttribute("data-lines", String(scene.lines.length));
      canvas.setAttribute("data-pending", String(pending.length));
    };
    var resize = function () {
      canvas.width = cimg.clientWidth || cimg.naturalWidth;
      canvas.height = cimg.clientHeight || cimg.naturalHeight;
      draw();
    };
    var sync = function (changed) {
      sceneField.value = JSON.stringify(scene);
      if (changed) {
        dirtyMsg.hidden = false;
        list.textContent = "";
        var item = function (kind, name, detail) {
          var li = document.createElement("li");
          li.setAttribute("data-test", "scene-item");
          li.setAttribute("data-kind", kind);
          li.setAttribute("data-name", name);
          var b = document.createElement("b");
          b.textContent = name;
          li.appendChild(b);
          li.appendChild(document.createTextNode(" · " + detail + " "));
          var del = document.createElement("button");
          del.type = "button";
          del.setAttribute("data-test", "scene-delete");
          del.setAttribute("data-kind", kind);
          del.setAttribute("data-name", name);
          del.textContent = ct("delete");
          li.appendChild(del);
          list.appendChild(li);
        };
        scene.zones.forEach(function (z) { item("zone", z.name, ct("zone") + " · " + z.polygon.length + " " + ct("points")); });
        scene.lines.forEach(function (l) { item("line", l.name, ct("line")); });
      }
      noneMsg.hidden = scene.zones.length + scene.lines.length > 0;
      draw();
    };
    var fail = function (msg) { drawErr.textContent = msg; drawErr.hidden = false; };
    var taken = function (kind, name) {
      return (kind === "zone" ? scene.zones : scene.lines).some(function (s) { return s.name === name; });
    };
    var nameFor = function (kind) {
      var name = (kind === "zone" ? zoneName : lineName).value.trim();
      if (!name) { fail(ct("need-name")); return null; }
      if (taken(kind, name)) { fail(ct("name-taken")); return null; }
      return name;
    };
    canvas.addEventListener("click", function (ev) {
      drawErr.hidden = true;
      var r = canvas.getBoundingClientRect();
      if (!r.width || !r.height) return;
      var p = [round4((ev.clientX - r.left) / r.width), round4((ev.clientY - r.top) / r.height)];
      var kind = mode();
      var name = nameFor(kind);
      if (name === null) return;
      pending.push(p);
      if (kind === "line" && pending.length === 2) {
        scene.lines.push({ name: name, from: pending[0], to: pending[1] });
        pending = [];
        lineName.value = "";
        sync(true);
        return;
      }
      draw();
    });
    document.getElementById("zone-close").addEventListener("click", function () {
      drawErr.hidden = true;
      if (mode() !== "zone") return;
      var name = nameFor("zone");
      if (name === null) return;
      if (pending.length < 3) { fail(ct("need-points")); return; }
      scene.zones.push({ name: name, polygon: pending });
      pending = [];
      zoneName.value = "";
      sync(true);
    });
    document.getElementById("draw-cancel").addEventListener("click", function () {
      pending = [];
      drawErr.hidden = true;
      draw();
    });
    document.querySelectorAll("input[name=mode]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        pending = [];
        hint.textContent = ct(mode() + "-hint");
        draw();
      });
    });
    list.addEventListener("click", function (ev) {
      var b = ev.target.closest("[data-test=scene-delete]");
      if (!b) return;
      var kind = b.getAttribute("data-kind"), name = b.getAttribute("data-name");
      if (kind === "zone") scene.zones = scene.zones.filter(function (z) { return z.name !== name; });
      else scene.lines = scene.lines.filter(function (l) { return l.name !== name; });
      sync(true);
    });
    var loadFrame = function (at) {
      at = Math.max(0, Math.round(at));
      cimg.src = frameUrlC + "?at_ms=" + at;
      if (atField) atField.value = String(at);
      if (timeC) timeC.textContent = mediaTimeOf(at);
    };
    cimg.addEventListener("load", resize);
    // A refused frame may be a stopped player: ask why.
    cimg.addEventListener("error", function () { checkVerification(); });
    window.addEventListener("resize", resize);
    if (seekC) seekC.addEventListener("change", function () { loadFrame(parseInt(seekC.value, 10) || 0); });
    sync(false);
    loadFrame(parseInt(cview.getAttribute("data-at-ms"), 10) || 0);
  }
})();
