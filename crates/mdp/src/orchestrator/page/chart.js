// A small canvas line chart: one or more series of (ts, value) over a fixed time window that
// ends at the newest sample. Each series has its own y-range (fixed, or 0..max of its data);
// the left axis is labelled for the first series, the legend names every series with its
// latest value and the top of its range. Exposed as window.MdpChart.
(function () {
  "use strict";

  function fmt(v) {
    if (!Number.isFinite(v)) return "–";
    const a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (a >= 1e4) return (v / 1e3).toFixed(0) + "k";
    if (a >= 1e3) return (v / 1e3).toFixed(1) + "k";
    if (a >= 10 || Number.isInteger(v)) return v.toFixed(0);
    return v.toFixed(2);
  }

  // series: [{label, color, min, max (omit for 0..data max), format(v) -> text}]
  function MdpChart(canvas, options) {
    this.canvas = canvas;
    this.windowSec = options.windowSec || 600;
    this.series = options.series;
  }

  MdpChart.format = fmt;

  // points: one array of [ts, value] per series, oldest first.
  MdpChart.prototype.draw = function (points) {
    const canvas = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const cssW = canvas.clientWidth || 300;
    const cssH = canvas.clientHeight || 120;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
    }
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);

    const styles = getComputedStyle(canvas);
    const ink = styles.getPropertyValue("--chart-ink").trim() || "#667";
    const grid = styles.getPropertyValue("--chart-grid").trim() || "#e4e6eb";
    const pad = { l: 34, r: 6, t: 18, b: 14 };
    const w = cssW - pad.l - pad.r;
    const h = cssH - pad.t - pad.b;
    if (w <= 0 || h <= 0) return;

    let end = -Infinity;
    points.forEach((pts) => {
      if (pts.length) end = Math.max(end, pts[pts.length - 1][0]);
    });
    if (!Number.isFinite(end)) end = Date.now() / 1000;
    const start = end - this.windowSec;
    const x = (ts) => pad.l + ((ts - start) / this.windowSec) * w;

    const ranges = this.series.map((s, i) => {
      const lo = Number.isFinite(s.min) ? s.min : 0;
      let hi = s.max;
      if (!Number.isFinite(hi)) {
        hi = 0;
        (points[i] || []).forEach((p) => {
          if (p[0] >= start && Number.isFinite(p[1])) hi = Math.max(hi, p[1]);
        });
        hi = hi > 0 ? hi * 1.1 : 1;
      }
      return [lo, hi > lo ? hi : lo + 1];
    });

    // Grid, left labels (first series) and the time axis.
    ctx.font = "10px system-ui, sans-serif";
    ctx.lineWidth = 1;
    ctx.strokeStyle = grid;
    ctx.fillStyle = ink;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const first = this.series[0];
    const firstFmt = first.format || fmt;
    for (let k = 0; k <= 2; k++) {
      const y = Math.round(pad.t + h - (k / 2) * h) + 0.5;
      ctx.beginPath();
      ctx.moveTo(pad.l, y);
      ctx.lineTo(pad.l + w, y);
      ctx.stroke();
      const [lo, hi] = ranges[0];
      ctx.fillText(firstFmt(lo + ((hi - lo) * k) / 2), pad.l - 4, y);
    }
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    ctx.fillText("−" + Math.round(this.windowSec / 60) + " min", pad.l, pad.t + h + 2);
    ctx.textAlign = "right";
    ctx.fillText("now", pad.l + w, pad.t + h + 2);

    // Lines.
    ctx.save();
    ctx.beginPath();
    ctx.rect(pad.l, pad.t - 1, w, h + 2);
    ctx.clip();
    ctx.lineWidth = 1.5;
    ctx.lineJoin = "round";
    this.series.forEach((s, i) => {
      const [lo, hi] = ranges[i];
      const y = (v) => pad.t + h - ((Math.min(Math.max(v, lo), hi) - lo) / (hi - lo)) * h;
      ctx.strokeStyle = s.color;
      ctx.beginPath();
      let pen = false;
      let last = null;
      (points[i] || []).forEach((p) => {
        if (p[0] < start - 2 || !Number.isFinite(p[1])) {
          pen = false;
          return;
        }
        // A gap of more than 5 s (no samples) breaks the line.
        if (pen && last !== null && p[0] - last > 5) pen = false;
        if (pen) ctx.lineTo(x(p[0]), y(p[1]));
        else ctx.moveTo(x(p[0]), y(p[1]));
        pen = true;
        last = p[0];
      });
      ctx.stroke();
    });
    ctx.restore();

    // Legend: label, latest value, range top.
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    let lx = pad.l;
    this.series.forEach((s, i) => {
      const pts = points[i] || [];
      const latest = pts.length ? pts[pts.length - 1][1] : NaN;
      const f = s.format || fmt;
      const text = s.label + " " + f(latest) + (i > 0 ? " (0–" + fmt(ranges[i][1]) + ")" : "");
      ctx.fillStyle = s.color;
      ctx.fillRect(lx, 4, 8, 8);
      ctx.fillStyle = ink;
      ctx.fillText(text, lx + 11, 3);
      lx += 11 + ctx.measureText(text).width + 10;
    });
  };

  window.MdpChart = MdpChart;
})();
