// The editor's workstation (candidate page) and the queue. Plain JS, no build step, no network.
// Every control also works as a plain form without it.
(function () {
  "use strict";

  // ---- queue: filters apply on change
  var filters = document.getElementById("filters");
  if (filters) {
    filters.querySelectorAll("select").forEach(function (sel) {
      sel.addEventListener("change", function () { filters.submit(); });
    });
  }

  var video = document.getElementById("player");
  var host = video || document.getElementById("no-proxy");
  if (!host) { return; }
  var fps = parseFloat(host.dataset.fps) || 25;
  var inInput = document.getElementById("trim-in");
  var outInput = document.getElementById("trim-out");
  var clipIn = parseFloat(host.dataset.start), clipOut = parseFloat(host.dataset.end);
  var scrub = document.getElementById("scrub");
  var duration = parseFloat(scrub ? scrub.dataset.duration : "0") || clipOut;
  var clockEl = document.getElementById("clock");
  var announceEl = document.getElementById("announce");
  var stay = document.getElementById("stay-inside");
  var playBtn = document.getElementById("play");
  var tlHead = document.getElementById("tl-head");
  var tlClip = document.getElementById("tl-clip");
  var timeline = document.getElementById("timeline");
  var rate = 1;
  var fakeTime = clipIn;  // without a proxy the playhead still moves (seek, marks)

  function now() { return video ? video.currentTime : fakeTime; }
  function fmt(t) {
    var m = Math.floor(t / 60), s = t - m * 60;
    return m + ":" + (s < 10 ? "0" : "") + s.toFixed(2);
  }
  function announce(msg) { if (announceEl) { announceEl.textContent = msg; } }
  function readIn() { var v = inInput ? parseFloat(inInput.value) : NaN; return isFinite(v) ? v : clipIn; }
  function readOut() { var v = outInput ? parseFloat(outInput.value) : NaN; return isFinite(v) ? v : clipOut; }
  function pct(t) { return duration > 0 ? Math.max(0, Math.min(100, t / duration * 100)) : 0; }

  function draw() {
    var t = now(), a = readIn(), b = readOut();
    if (clockEl) { clockEl.textContent = fmt(t) + "  (in " + fmt(a) + " · out " + fmt(b) + ")"; }
    var sc = document.getElementById("scrub-clip"), sh = document.getElementById("scrub-head");
    if (sc) { sc.style.left = pct(a) + "%"; sc.style.width = Math.max(0.3, pct(b) - pct(a)) + "%"; }
    if (sh) { sh.style.left = pct(t) + "%"; }
    if (tlHead) { var x = pct(t) * 10; tlHead.setAttribute("x1", x); tlHead.setAttribute("x2", x); }
    if (tlClip) { tlClip.setAttribute("x", pct(a) * 10); tlClip.setAttribute("width", Math.max(2, (pct(b) - pct(a)) * 10)); }
    document.querySelectorAll("li.cue.playing").forEach(function (li) { li.classList.remove("playing"); });
    document.querySelectorAll("li.cue").forEach(function (li) {
      if (t >= parseFloat(li.dataset.start) && t < parseFloat(li.dataset.end)) { li.classList.add("playing"); }
    });
  }

  function seek(t) {
    t = Math.max(0, Math.min(duration || t, t));
    if (video) { video.currentTime = t; } else { fakeTime = t; }
    draw();
  }
  function frameStep(n) { seek(Math.round((now() + n / fps) * fps) / fps); }

  function play() {
    if (!video) { return; }
    var a = readIn(), b = readOut();
    if (stay && stay.checked && (video.currentTime < a - 0.01 || video.currentTime >= b - 0.02)) { video.currentTime = a; }
    video.playbackRate = rate;
    video.play();
  }
  function pause() { if (video) { video.pause(); } rate = 1; }
  function toggle() { if (video && !video.paused) { pause(); } else { play(); } }

  if (video) {
    video.addEventListener("play", function () { if (playBtn) { playBtn.textContent = "Pause"; } loop(); });
    video.addEventListener("pause", function () { if (playBtn) { playBtn.textContent = "Play"; } draw(); });
    video.addEventListener("loadedmetadata", function () { if (video.currentTime < 0.01) { video.currentTime = clipIn; } draw(); });
    video.addEventListener("seeked", draw);
  }
  function loop() {
    if (!video || video.paused) { return; }
    if (stay && stay.checked && video.currentTime >= readOut()) { video.pause(); video.currentTime = readOut(); }
    draw();
    window.requestAnimationFrame(loop);
  }
  if (playBtn) { playBtn.addEventListener("click", toggle); }

  // ---- in / out: at the playhead, or at the selected words
  function selectedWords() {
    var sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) { return null; }
    var range = sel.getRangeAt(0);
    var words = Array.prototype.filter.call(document.querySelectorAll("#transcript .w"), function (w) {
      return range.intersectsNode(w);
    });
    return words.length ? words : null;
  }
  function setPoint(which) {
    var input = which === "in" ? inInput : outInput;
    if (!input) { announce("You cannot edit the cut of this candidate."); return; }
    var words = selectedWords(), t;
    if (words) {
      t = which === "in" ? parseFloat(words[0].dataset.s) : parseFloat(words[words.length - 1].dataset.e);
    } else {
      t = now();
    }
    input.value = t.toFixed(3);
    input.dispatchEvent(new Event("input"));
    var dirty = document.getElementById("trim-dirty");
    if (dirty) { dirty.textContent = "Unsaved cut: save it with “Save cut”."; }
    announce((which === "in" ? "In" : "Out") + " point set to " + fmt(t) + ". Save the cut to keep it.");
    draw();
  }
  document.querySelectorAll("button.set-time").forEach(function (btn) {
    btn.addEventListener("click", function () { setPoint(btn.dataset.target === "trim-in" ? "in" : "out"); });
  });
  [inInput, outInput].forEach(function (el) { if (el) { el.addEventListener("input", draw); } });

  // ---- click (or Enter on) a word, a time, the scrubber or the timeline to seek
  document.addEventListener("click", function (e) {
    var w = e.target.closest ? e.target.closest(".w, .seek") : null;
    if (w) {
      if (w.classList.contains("w") && !window.getSelection().isCollapsed) { return; }
      seek(parseFloat(w.dataset.s || w.dataset.t));
      announce("Playhead at " + fmt(now()));
    }
  });
  function seekFromBox(el, e) {
    var r = el.getBoundingClientRect();
    if (r.width > 0) { seek((e.clientX - r.left) / r.width * duration); }
  }
  if (scrub) { scrub.addEventListener("click", function (e) { seekFromBox(scrub, e); }); }
  if (timeline) { timeline.addEventListener("click", function (e) { seekFromBox(timeline, e); }); }

  // ---- zoom the timeline (its box scrolls sideways, the page does not)
  var zoom = 1;
  function setZoom(z) {
    zoom = Math.max(1, Math.min(32, z));
    if (timeline) { timeline.style.width = (zoom * 100) + "%"; }
    var ticks = document.querySelector(".ticks");
    if (ticks) { ticks.hidden = zoom > 1; }
    announce("Timeline zoom " + zoom + "×");
  }
  var zin = document.getElementById("zoom-in"), zout = document.getElementById("zoom-out");
  if (zin) { zin.addEventListener("click", function () { setZoom(zoom * 2); }); }
  if (zout) { zout.addEventListener("click", function () { setZoom(zoom / 2); }); }

  // ---- fields that take the playhead time
  document.querySelectorAll("input.at-playhead").forEach(function (el) {
    el.addEventListener("focus", function () { if (!el.dataset.touched) { el.value = now().toFixed(2); } });
    el.addEventListener("input", function () { el.dataset.touched = "1"; });
  });

  // ---- light live check of a cue's text (the server's check_track is the authority)
  document.querySelectorAll("input.cue-text").forEach(function (el) {
    var out = document.getElementById(el.getAttribute("aria-describedby"));
    var server = out ? out.innerHTML : "";
    el.addEventListener("input", function () {
      var text = el.value.trim(), d = parseFloat(el.dataset.duration) || 1, msgs = [];
      if (!text) { msgs.push("empty: merge the cue instead"); }
      if (text.length > 84) { msgs.push(text.length + " characters: more than 2 lines of 42"); }
      var cps = text.replace(/\s+/g, "").length / d;
      if (cps > 20) { msgs.push("reading speed " + cps.toFixed(1) + " characters/s, at most 20"); }
      if (out) {
        out.innerHTML = server;
        msgs.forEach(function (m) { var s = document.createElement("span"); s.className = "problem"; s.textContent = m; out.appendChild(s); });
      }
    });
  });

  // ---- keys
  var dialog = document.getElementById("keys-dialog");
  function showKeys() { if (dialog && !dialog.open) { dialog.showModal(); } }
  var showBtn = document.getElementById("show-keys");
  if (showBtn) { showBtn.addEventListener("click", showKeys); }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var t = e.target, tag = t && t.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable)) { return; }
    if (dialog && dialog.open) { return; }
    var onControl = tag === "BUTTON" || tag === "A" || tag === "SUMMARY" || tag === "VIDEO";
    if (e.key === "Enter" && t && t.classList && t.classList.contains("w")) {
      e.preventDefault(); seek(parseFloat(t.dataset.s)); announce("Playhead at " + fmt(now())); return;
    }
    switch (e.key) {
      case " ":
        if (onControl && tag !== "VIDEO") { return; }  // a focused button keeps its own Space
        e.preventDefault(); toggle(); break;
      case "k": case "K": e.preventDefault(); pause(); break;
      case "l": case "L": e.preventDefault(); rate = video && !video.paused ? Math.min(4, rate * 2) : 1; play(); break;
      case "j": case "J": e.preventDefault(); pause(); seek(now() - 1); break;
      case "i": case "I": e.preventDefault(); setPoint("in"); break;
      case "o": case "O": e.preventDefault(); setPoint("out"); break;
      case "ArrowLeft": e.preventDefault(); if (e.shiftKey) { seek(now() - 1); } else { frameStep(-1); } break;
      case "ArrowRight": e.preventDefault(); if (e.shiftKey) { seek(now() + 1); } else { frameStep(1); } break;
      case "[": e.preventDefault(); seek(readIn()); break;
      case "]": e.preventDefault(); seek(readOut()); break;
      case "?": e.preventDefault(); showKeys(); break;
      default: return;
    }
  });

  // ---- export job progress
  document.querySelectorAll("[data-job]").forEach(function (el) {
    if (!el.classList.contains("running")) { return; }
    function poll() {
      fetch("/exports/jobs/" + el.dataset.job, { credentials: "same-origin" }).then(function (r) { return r.json(); })
        .then(function (j) {
          var bar = el.querySelector("progress");
          if (bar) { bar.value = j.progress; bar.textContent = Math.round(j.progress * 100) + " %"; }
          if (j.state === "running") { window.setTimeout(poll, 1000); } else { window.location.reload(); }
        }).catch(function () { window.setTimeout(poll, 3000); });
    }
    window.setTimeout(poll, 1000);
  });

  draw();
})();
