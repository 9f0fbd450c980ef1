// Translation view: keyboard flow from cue to cue, live limit checks, saving without a reload,
// and the player looping the cue being translated. Without this script every form still posts.
(function () {
  "use strict";
  const list = document.getElementById("tr-cues");
  if (!list) return;
  const cues = Array.from(list.querySelectorAll(".tr-cue"));
  const player = document.getElementById("tr-player");
  const maxLines = Number(list.dataset.maxLines), maxCols = Number(list.dataset.maxColumns);
  const maxCps = Number(list.dataset.maxCps);
  let current = null;

  function areaOf(li) { return li.querySelector("textarea"); }

  function select(li) {
    if (!li) return;
    cues.forEach((c) => c.classList.toggle("current", c === li));
    current = li;
    if (player) {
      player.currentTime = Number(li.dataset.start);
      player.play().catch(() => {});
    }
  }

  if (player) {
    player.addEventListener("timeupdate", () => {
      if (current && player.currentTime >= Number(current.dataset.end)) {
        player.currentTime = Number(current.dataset.start); // loop the current cue
      }
    });
  }

  // A light client check; the server's check (shown after saving) is the one that counts.
  function check(li) {
    const area = areaOf(li);
    const out = li.querySelector(".problems");
    const lines = area.value.split("\n").map((l) => l.trim()).filter((l) => l);
    const problems = [];
    if (lines.length > maxLines) problems.push(lines.length + " lines > " + maxLines);
    lines.forEach((l, i) => {
      if (Array.from(l).length > maxCols && l.split(/\s+/).length > 1) {
        problems.push("line " + (i + 1) + " is " + Array.from(l).length + " characters > " + maxCols);
      }
    });
    const secs = Number(li.dataset.end) - Number(li.dataset.start);
    const chars = lines.join(" ").replace(/\s/g, "").length;
    if (secs > 0 && chars / secs > maxCps + 0.05) {
      problems.push("reading speed " + (chars / secs).toFixed(1) + " cps > " + maxCps + " (warning)");
    }
    out.textContent = problems.join("; ");
    area.setAttribute("aria-invalid", problems.some((p) => !p.endsWith("(warning)")) ? "true" : "false");
  }

  async function save(li, action) {
    const form = li.querySelector("form.tr-target");
    const body = new FormData(form);
    body.set("action", action || "save");
    // getAttribute: the form holds buttons named "action", which shadow form.action
    const res = await fetch(form.getAttribute("action"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "x-csrf-token": list.dataset.csrf },
    });
    const data = await res.json().catch(() => ({ ok: false, error: "the server did not answer" }));
    const out = li.querySelector(".problems");
    if (!data.ok) { out.textContent = data.error; return false; }
    out.textContent = data.problems.join("; ");
    li.classList.add("saved");
    li.querySelectorAll(".chip.machine").forEach((c) => { if (!data.machine_made) c.remove(); });
    const status = document.getElementById("track-status");
    if (status) { status.textContent = data.status; status.className = "status " + data.status; }
    return true;
  }

  function move(li, step) {
    const next = cues[cues.indexOf(li) + step];
    if (next) { areaOf(next).focus(); }
    return next;
  }

  cues.forEach((li) => {
    const area = areaOf(li);
    area.addEventListener("focus", () => { if (current !== li) select(li); });
    area.addEventListener("input", () => check(li));
    area.addEventListener("keydown", async (ev) => {
      if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter") {
        ev.preventDefault();
        if (await save(li)) move(li, 1);
      } else if (ev.altKey && ev.key === "ArrowDown") {
        ev.preventDefault(); move(li, 1);
      } else if (ev.altKey && ev.key === "ArrowUp") {
        ev.preventDefault(); move(li, -1);
      } else if (ev.altKey && (ev.key === "c" || ev.key === "C")) {
        ev.preventDefault();
        if (await save(li, "confirm")) move(li, 1);
      }
    });
    li.querySelectorAll(".use-suggestion").forEach((b) => {
      b.addEventListener("click", () => { area.value = b.dataset.text; check(li); area.focus(); });
    });
  });
  const first = cues.find((li) => !areaOf(li).value.trim()) || cues[0];
  if (first && location.hash.indexOf("#cue-") !== 0 && location.hash !== "#status") areaOf(first).focus();
})();
