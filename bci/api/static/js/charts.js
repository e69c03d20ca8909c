// Small canvas charts: class probabilities over time and the mu-suppression gauge.

import { classColor } from "./api.js";
import { fitCanvas } from "./traces.js";

export class ProbabilityChart {
  constructor(canvas, { spanS = 30 } = {}) {
    this.canvas = canvas;
    this.spanS = spanS;
    this.classes = [];
    this.points = []; // {t, p: {class: prob}}
    this.markers = [];
    this.frames = 0;
  }

  push(pred) {
    const classes = Object.keys(pred.probabilities);
    if (classes.join("|") !== this.classes.join("|")) {
      this.classes = classes;
      this.points = [];
    }
    this.points.push({ t: pred.t, p: pred.probabilities });
    const from = pred.t - this.spanS - 5;
    if (this.points.length > 64 && this.points[0].t < from) {
      this.points = this.points.filter((q) => q.t >= from);
    }
  }

  addMarker(t, label, color = "#c77dff") {
    this.markers.push({ t, label, color });
    if (this.markers.length > 200) this.markers.splice(0, 100);
  }

  draw(tNow) {
    const { ctx, w, h } = fitCanvas(this.canvas);
    ctx.fillStyle = "#0f1720";
    ctx.fillRect(0, 0, w, h);
    const x0 = 34;
    const top = 10;
    const plotW = w - x0 - 8;
    const plotH = h - top - 20;
    const t1 = tNow;
    const t0 = t1 - this.spanS;
    const xOf = (t) => x0 + ((t - t0) / this.spanS) * plotW;
    const yOf = (p) => top + (1 - p) * plotH;

    ctx.font = "11px system-ui, sans-serif";
    for (const p of [0, 0.25, 0.5, 0.75, 1]) {
      ctx.strokeStyle = p === 0.5 ? "#3a4b5c" : "#1b2631";
      ctx.beginPath();
      ctx.moveTo(x0, yOf(p));
      ctx.lineTo(x0 + plotW, yOf(p));
      ctx.stroke();
      ctx.fillStyle = "#6b7b8c";
      ctx.fillText(p.toFixed(p % 0.5 ? 2 : 1), 4, yOf(p) + 4);
    }
    for (let s = 0; s <= this.spanS; s += 5) {
      ctx.fillStyle = "#6b7b8c";
      ctx.fillText(`${s - this.spanS} s`, x0 + (s / this.spanS) * plotW - 12, h - 4);
    }
    for (const m of this.markers) {
      if (m.t < t0 || m.t > t1) continue;
      const x = xOf(m.t);
      ctx.strokeStyle = m.color;
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + plotH);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = m.color;
      ctx.fillText(m.label, x + 3, top + 10);
    }
    if (!this.points.length) {
      ctx.fillStyle = "#6b7b8c";
      ctx.font = "14px system-ui, sans-serif";
      ctx.fillText("Waiting for predictions…", x0 + 12, top + plotH / 2);
      return;
    }
    ctx.save();
    ctx.beginPath();
    ctx.rect(x0, 0, plotW, h);
    ctx.clip();
    ctx.lineWidth = 2;
    for (const c of this.classes) {
      ctx.strokeStyle = classColor(c, this.classes);
      ctx.beginPath();
      let pen = false;
      for (const q of this.points) {
        if (q.t < t0 - 1) continue;
        if (q.t > t1) break;
        const x = xOf(q.t);
        const y = yOf(q.p[c]);
        if (pen) ctx.lineTo(x, y);
        else ctx.moveTo(x, y);
        pen = true;
      }
      ctx.stroke();
    }
    ctx.restore();
    this.frames += 1;
  }
}

/**
 * A horizontal gauge for the mu-suppression index (log power ratio: negative = suppression).
 */
export class SuppressionGauge {
  constructor(canvas, { range = 0.5 } = {}) {
    this.canvas = canvas;
    this.range = range;
    this.value = null;
    this.history = [];
  }

  set(value) {
    this.value = value;
    this.history.push(value);
    if (this.history.length > 300) this.history.shift();
    const peak = Math.max(...this.history.map((v) => Math.abs(v)), 0.25);
    this.range = Math.max(0.5, Math.ceil(peak * 4) / 4);
  }

  draw() {
    const { ctx, w, h } = fitCanvas(this.canvas);
    ctx.fillStyle = "#0f1720";
    ctx.fillRect(0, 0, w, h);
    const x0 = 16;
    const x1 = w - 16;
    const yc = h / 2;
    const xOf = (v) => x0 + ((Math.max(-this.range, Math.min(this.range, v)) + this.range) / (2 * this.range)) * (x1 - x0);
    const grad = ctx.createLinearGradient(x0, 0, x1, 0);
    grad.addColorStop(0, "#2ed47a");
    grad.addColorStop(0.5, "#3a4b5c");
    grad.addColorStop(1, "#ff6b81");
    ctx.fillStyle = grad;
    ctx.fillRect(x0, yc - 8, x1 - x0, 16);
    ctx.fillStyle = "#9fb0c2";
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillText(`−${this.range} suppression`, x0, yc + 26);
    const right = `+${this.range} enhancement`;
    ctx.fillText(right, x1 - ctx.measureText(right).width, yc + 26);
    ctx.fillText("0", xOf(0) - 3, yc + 26);
    if (this.value === null) return;
    const x = xOf(this.value);
    ctx.fillStyle = "#ffffff";
    ctx.beginPath();
    ctx.moveTo(x, yc - 12);
    ctx.lineTo(x - 7, yc - 22);
    ctx.lineTo(x + 7, yc - 22);
    ctx.closePath();
    ctx.fill();
    ctx.fillRect(x - 1.5, yc - 12, 3, 24);
  }
}
