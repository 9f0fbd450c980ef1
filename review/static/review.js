// Candidate page: play the clip between its in and out points and copy player time into the
// trim fields. No framework; the page works without it (plain forms).
(function () {
  "use strict";
  var video = document.getElementById("player");
  var clock = document.getElementById("clock");
  if (video) {
    var start = parseFloat(video.dataset.start), end = parseFloat(video.dataset.end);
    var clipMode = false;
    var playBtn = document.getElementById("play-clip");
    if (playBtn) {
      playBtn.addEventListener("click", function () {
        clipMode = true;
        if (video.currentTime < start || video.currentTime >= end - 0.05) { video.currentTime = start; }
        video.play();
      });
    }
    video.addEventListener("timeupdate", function () {
      if (clock) { clock.textContent = video.currentTime.toFixed(2) + " s"; }
      if (clipMode && video.currentTime >= end) { video.pause(); clipMode = false; }
    });
  }
  document.querySelectorAll("button.set-time").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var input = document.getElementById(btn.dataset.target);
      if (video && input) { input.value = video.currentTime.toFixed(2); }
    });
  });
})();
