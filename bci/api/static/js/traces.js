// Scrolling EEG traces on a canvas, fed by `signal` messages (decimated raw µV).

export const QUALITY_COLORS = {
  ok: "#2ed47a",
  flat: "#9aa5b1",
  saturated: "#ff4d5e",
  line_noise: "#ff9f43",
  noisy: "#f9e04b",
};

export const QUALITY_TEXT = {
  ok: "ok",
  flat: "flat",
  saturated: "saturated",
  line_noise: "line noise",
  noisy: "noisy",
};

const NICE = [1, 2, 5];

function niceCeil(x) {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const n of NICE) if (n * p >= x) return n * p;
  return 10 * p;
}

/** Size a canvas's backing store to its CSS box (HiDPI); returns the 2-D context. */
export function fitCanvas(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, w: w / dpr, h: h / dpr };
}

export class TraceView {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{spanS?: number, gutter?: number}} options
   */
  constructor(canvas, { spanS = 10, gutter = 104 } = {}) {
    this.canvas = canvas;
    this.spanS = spanS;
    this.gutter = gutter;
    this.chNames = [];
    this.t = [];
    this.y = [];
    this.quality = {};
    this.markers = [];
    this.scale = "auto"; // µV from a lane's centre to its edge, or "auto"
    this.autoScale = 50;
    this._autoAt = 0;
    this.frames = 0; // frames drawn with data, for tests and the FPS readout
    this.dt = 0.01;
    this.lastT = null;
  }

  setChannels(names) {
    if (names.join("|") === this.chNames.join("|")) return;
    this.chNames = [...names];
    this.t = [];
    this.y = names.map(() => []);
  }

  /** Append a `signal` message's points. */
  push(msg) {
    this.setChannels(msg.ch_names);
    if (msg.sfreq > 0) this.dt = 1 / msg.sfreq;
    const n = msg.t.length;
    for (let i = 0; i < n; i++) {
      this.t.push(msg.t[i]);
      for (let c = 0; c < this.y.length; c++) this.y[c].push(msg.data[c][i]);
    }
    if (n) this.lastT = msg.t[n - 1];
    if (msg.quality && Object.keys(msg.quality).length) this.quality = msg.quality;
    this._trim();
  }

  _trim() {
    if (!this.t.length) return;
    const keepFrom = this.t[this.t.length - 1] - this.spanS - 2;
    let k = 0;
    while (k < this.t.length && this.t[k] < keepFrom) k++;
    if (k > 256 || k > this.t.length / 2) {
      this.t.splice(0, k);
      for (const row of this.y) row.splice(0, k);
    }
    const mFrom = keepFrom - 60;
    this.markers = this.markers.filter((m) => m.t >= mFrom);
  }

  addMarker(t, label, color = "#c77dff") {
    this.markers.push({ t, label, color });
  }

  /** Scale in µV per half lane: a number, or "auto". */
  setScale(scale) {
    this.scale = scale === "auto" ? "auto" : Number(scale);
  }

  get currentScale() {
    return this.scale === "auto" ? this.autoScale : this.scale;
  }

  _updateAuto(i0, i1, means) {
    const now = performance.now();
    if (now - this._autoAt < 500) return;
    this._autoAt = now;
    let worst = 0;
    for (let c = 0; c < this.y.length; c++) {
      const row = this.y[c];
      const dev = [];
      for (let i = i0; i < i1; i++) dev.push(Math.abs(row[i] - means[c]));
      if (!dev.length) continue;
      dev.sort((a, b) => a - b);
      const q = dev[Math.floor(0.98 * (dev.length - 1))];
      if (this.quality[this.chNames[c]] !== "flat") worst = Math.max(worst, q);
    }
    if (worst > 0) this.autoScale = niceCeil(worst * 1.1);
  }

  /** Draw the span ending at LSL time `tNow`. */
  draw(tNow) {
    const { ctx, w, h } = fitCanvas(this.canvas);
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = "#0f1720";
    ctx.fillRect(0, 0, w, h);
    const nCh = this.chNames.length;
    const x0 = this.gutter;
    const plotW = w - x0 - 8;
    const top = 18;
    const laneH = nCh ? (h - top - 16) / nCh : h;
    const t1 = tNow;
    const t0 = t1 - this.spanS;
    const xOf = (t) => x0 + ((t - t0) / this.spanS) * plotW;

    // Second grid and time labels.
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "alphabetic";
    for (let s = 0; s <= this.spanS; s++) {
      const x = x0 + (s / this.spanS) * plotW;
      ctx.strokeStyle = s % 5 === 0 ? "#2a3947" : "#1b2631";
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, h - 16);
      ctx.stroke();
      if (s % 2 === 0) {
        ctx.fillStyle = "#6b7b8c";
        ctx.fillText(`${s - this.spanS} s`, x - 12, h - 3);
      }
    }
    if (!nCh) {
      ctx.fillStyle = "#6b7b8c";
      ctx.font = "14px system-ui, sans-serif";
      ctx.fillText("Waiting for signal…", x0 + 12, h / 2);
      return;
    }

    // Visible index range.
    let i0 = 0;
    while (i0 < this.t.length && this.t[i0] < t0 - this.dt) i0++;
    let i1 = i0;
    while (i1 < this.t.length && this.t[i1] <= t1) i1++;
    const means = this.y.map((row) => {
      let s = 0;
      for (let i = i0; i < i1; i++) s += row[i];
      return i1 > i0 ? s / (i1 - i0) : 0;
    });
    if (this.scale === "auto") this._updateAuto(i0, i1, means);
    const scale = this.currentScale;
    const gapS = Math.max(5 * this.dt, 0.25);

    for (let c = 0; c < nCh; c++) {
      const yc = top + laneH * (c + 0.5);
      const name = this.chNames[c];
      const q = this.quality[name] || "ok";
      // Lane label and quality flag.
      ctx.fillStyle = c % 2 ? "#121c26" : "#0f1720";
      ctx.fillRect(0, top + laneH * c, x0 - 4, laneH);
      ctx.fillStyle = "#d7e0ea";
      ctx.font = "600 12px system-ui, sans-serif";
      ctx.fillText(name, 8, yc - 2);
      ctx.fillStyle = QUALITY_COLORS[q] || "#9aa5b1";
      ctx.beginPath();
      ctx.arc(12, yc + 10, 4, 0, 2 * Math.PI);
      ctx.fill();
      ctx.font = "11px system-ui, sans-serif";
      ctx.fillText(QUALITY_TEXT[q] || q, 20, yc + 14);
      // Zero line.
      ctx.strokeStyle = "#1f2c38";
      ctx.beginPath();
      ctx.moveTo(x0, yc);
      ctx.lineTo(x0 + plotW, yc);
      ctx.stroke();
      // Trace.
      const row = this.y[c];
      const k = laneH / 2 / scale;
      ctx.save();
      ctx.beginPath();
      ctx.rect(x0, top + laneH * c - laneH * 0.25, plotW, laneH * 1.5);
      ctx.clip();
      ctx.strokeStyle = q === "ok" ? "#8fd3ff" : QUALITY_COLORS[q] || "#8fd3ff";
      ctx.lineWidth = 1;
      ctx.beginPath();
      let pen = false;
      for (let i = i0; i < i1; i++) {
        const x = xOf(this.t[i]);
        const y = yc - (row[i] - means[c]) * k;
        if (!pen || this.t[i] - this.t[i - 1] > gapS) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
        pen = true;
      }
      ctx.stroke();
      ctx.restore();
    }

    // Markers.
    ctx.font = "11px system-ui, sans-serif";
    for (const m of this.markers) {
      if (m.t < t0 || m.t > t1) continue;
      const x = xOf(m.t);
      ctx.strokeStyle = m.color;
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, h - 16);
      ctx.stroke();
      ctx.setLineDash([]);
      // Label inside the plot, on a dark plate so it stays readable over the traces.
      const tw = ctx.measureText(m.label).width;
      ctx.fillStyle = "rgba(15, 23, 32, 0.85)";
      ctx.fillRect(x + 2, top + 2, tw + 6, 14);
      ctx.fillStyle = m.color;
      ctx.fillText(m.label, x + 5, top + 13);
    }

    // Scale readout.
    ctx.fillStyle = "#9fb0c2";
    ctx.font = "11px system-ui, sans-serif";
    const label = `±${scale} µV / lane${this.scale === "auto" ? " (auto)" : ""}`;
    ctx.fillText(label, w - ctx.measureText(label).width - 10, 12);
    if (i1 > i0) this.frames += 1;
  }
}
