// Calibration cues shown large: arrows for hands, feet, a hand-action video for observation.

const SYMBOLS = [
  [/left/i, "←", "cue-left"],
  [/right/i, "→", "cue-right"],
  [/feet|foot/i, "⇓", "cue-feet"],
  [/hands|both/i, "⇆", "cue-hands"],
  [/rest|baseline/i, "○", "cue-rest"],
];

// A drawn hand (no emoji font needed) whose fingers close and open: the video placeholder.
const HAND_SVG = `<svg class="video-hand" viewBox="0 0 120 150" aria-label="hand grasping">
  <g fill="#e9c7a4" stroke="#a97c55" stroke-width="2.5">
    <rect class="finger" x="24" y="22" width="17" height="68" rx="8.5"/>
    <rect class="finger" x="43" y="8" width="17" height="82" rx="8.5"/>
    <rect class="finger" x="62" y="12" width="17" height="78" rx="8.5"/>
    <rect class="finger" x="81" y="28" width="16" height="62" rx="8"/>
    <rect class="thumb" x="2" y="74" width="46" height="18" rx="9"/>
    <rect x="22" y="66" width="77" height="72" rx="22"/>
  </g>
</svg>`;

/** The symbol and CSS class for a class label (observation cues get the video panel). */
export function cueSymbol(label) {
  for (const [re, sym, cls] of SYMBOLS) if (re.test(label)) return { sym, cls };
  return { sym: String(label).toUpperCase(), cls: "cue-other" };
}

function isObservation(label, text) {
  return /observ|watch/i.test(label || "") || /watch|observe/i.test(text || "");
}

/**
 * Show one calibration message on the overlay.
 *
 * `msg` is a WebSocket `cue` message ({phase: "fixation" | "cue" | "rest", label, cue,
 * trial, n_trials}) or a local phase: "start", "fitting", "done" (with `result`).
 */
export function cueView(overlay, msg) {
  const symbol = overlay.querySelector("#cue-symbol");
  const text = overlay.querySelector("#cue-text");
  const progress = overlay.querySelector("#cue-progress");
  overlay.hidden = false;
  overlay.dataset.phase = msg.phase;
  symbol.className = "cue-symbol";
  symbol.innerHTML = "";
  text.textContent = "";
  progress.textContent = msg.n_trials ? `Trial ${msg.trial} of ${msg.n_trials}` : "";
  if (msg.phase === "start") {
    symbol.textContent = "…";
    text.textContent = "Calibration: relax, and follow the cues.";
  } else if (msg.phase === "fixation") {
    symbol.textContent = "+";
    symbol.classList.add("cue-fixation");
    text.textContent = "Get ready";
  } else if (msg.phase === "cue") {
    overlay.dataset.label = msg.label;
    if (isObservation(msg.label, msg.cue)) {
      symbol.classList.add("cue-video");
      // Placeholder for a hand-action video: an animated hand until a real clip is set.
      symbol.innerHTML = `<div class="video-box">${HAND_SVG}<div class="video-caption">hand action video</div></div>`;
    } else {
      const { sym, cls } = cueSymbol(msg.label);
      symbol.textContent = sym;
      symbol.classList.add(cls);
    }
    text.textContent = msg.cue || msg.label;
  } else if (msg.phase === "rest") {
    symbol.textContent = "";
    text.textContent = "Rest";
  } else if (msg.phase === "fitting") {
    symbol.textContent = "⋯";
    text.textContent = "Fitting and cross-validating the decoder…";
  } else if (msg.phase === "done") {
    const r = msg.result || {};
    symbol.classList.add("cue-score");
    symbol.textContent = r.cv_score === null || r.cv_score === undefined ? "✓" : Number(r.cv_score).toFixed(2);
    text.textContent = r.cv_metric ? `Cross-validated ${r.cv_metric}; model ${r.model_id} is active` : `Model ${r.model_id} is active`;
  }
}
