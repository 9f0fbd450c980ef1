// The plan preview: poll its job until done, then play it; the switch shows the raw source.
(function () {
  "use strict";
  const box = document.getElementById("preview");
  if (!box) return;
  const video = document.getElementById("preview-player");
  const raw = document.getElementById("player");
  const rawSwitch = document.getElementById("show-raw");
  const text = document.getElementById("preview-progress");
  const bar = document.getElementById("preview-bar");
  let ready = false;

  function show() {
    const wantRaw = rawSwitch.checked || !ready;
    video.hidden = wantRaw;
    if (raw) raw.hidden = !wantRaw;
    if (wantRaw) video.pause(); else if (raw) raw.pause();
  }

  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin"})
      .then((r) => r.json())
      .then((s) => {
        bar.value = s.progress;
        if (s.status === "done") {
          ready = true;
          bar.hidden = true;
          text.textContent = "Playing the preview of what will be published.";
          if (video.getAttribute("src") !== s.url) video.setAttribute("src", s.url);
          box.dataset.plan = s.plan;
          show();
        } else if (s.status === "failed" || s.status === "none") {
          bar.hidden = true;
          text.textContent = (s.status === "none" ? "No preview: " : "The preview failed: ") + s.error;
        } else {
          bar.hidden = false;
          text.textContent = "Preview " + s.status + " (" + Math.round(s.progress * 100) + " %)…";
          setTimeout(poll, 1500);
        }
      })
      .catch(() => setTimeout(poll, 5000));
  }

  rawSwitch.addEventListener("change", show);
  show();
  poll();
})();
