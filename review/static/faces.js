// Candidate page (issue 16): outline the detected faces over the review video, from the cached
// face samples (/candidates/ID/faces.json), at the sample nearest the player's time.
(function () {
  "use strict";
  var box = document.getElementById("show-faces");
  var video = document.getElementById("player");
  if (!box || !video) { return; }
  var NS = "http://www.w3.org/2000/svg";
  var data = null, svg = null;
  function draw() {
    if (!svg || !data || !data.samples.length) { return; }
    var t = video.currentTime, best = data.samples[0];
    data.samples.forEach(function (s) { if (Math.abs(s.t - t) < Math.abs(best.t - t)) { best = s; } });
    var r = video.getBoundingClientRect();
    svg.setAttribute("width", r.width); svg.setAttribute("height", r.height);
    svg.style.left = video.offsetLeft + "px"; svg.style.top = video.offsetTop + "px";
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    best.boxes.forEach(function (b) {
      var rect = document.createElementNS(NS, "rect");
      rect.setAttribute("x", b[0]); rect.setAttribute("y", b[1]);
      rect.setAttribute("width", b[2]); rect.setAttribute("height", b[3]);
      svg.appendChild(rect);
    });
  }
  box.addEventListener("change", function () {
    if (!box.checked) { if (svg) { svg.remove(); svg = null; } return; }
    svg = document.createElementNS(NS, "svg");
    svg.setAttribute("class", "face-overlay");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("viewBox", "0 0 " + box.dataset.width + " " + box.dataset.height);
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    video.parentNode.appendChild(svg);
    if (data) { draw(); return; }
    fetch(box.dataset.src, {credentials: "same-origin"}).then(function (r) { return r.json(); })
      .then(function (d) { data = d; draw(); });
  });
  video.addEventListener("timeupdate", draw);
  window.addEventListener("resize", draw);
}());
