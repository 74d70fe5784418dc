// A small <canvas> trend chart: line of values, min/max band, threshold lines (H/HH/L/LL).

const COLOURS = { hh: "#e5484d", h: "#f76b15", l: "#f5c33b", ll: "#e5484d" };

/**
 * points: [{t: Date|ms, v: number, lo?: number, hi?: number}], thresholds: {hh, h, l, ll}.
 */
export function drawTrend(canvas, points, { thresholds = {}, unit = "", label = "" } = {}) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 600;
  const h = canvas.clientHeight || 220;
  canvas.width = w * dpr;
  canvas.height = h * dpr;
  const g = canvas.getContext("2d");
  g.scale(dpr, dpr);
  g.clearRect(0, 0, w, h);
  const css = getComputedStyle(document.body);
  const text = css.getPropertyValue("--muted") || "#8ea0b5";
  g.font = "12px sans-serif";
  g.fillStyle = text;
  const pad = { l: 48, r: 60, t: 18, b: 22 };
  if (!points.length) {
    g.fillText(`${label} —`, pad.l, h / 2);
    return;
  }
  const ts = points.map((p) => +new Date(p.t));
  const vals = points.flatMap((p) => [p.v, p.lo, p.hi]).filter((v) => Number.isFinite(v));
  const limits = Object.values(thresholds).filter((v) => Number.isFinite(v));
  let lo = Math.min(...vals, ...limits);
  let hi = Math.max(...vals, ...limits);
  if (hi === lo) { hi += 1; lo -= 1; }
  const span = hi - lo;
  lo -= span * 0.08; hi += span * 0.08;
  const t0 = Math.min(...ts), t1 = Math.max(...ts) || t0 + 1;
  const x = (t) => pad.l + ((t - t0) / Math.max(1, t1 - t0)) * (w - pad.l - pad.r);
  const y = (v) => pad.t + (1 - (v - lo) / (hi - lo)) * (h - pad.t - pad.b);

  g.strokeStyle = "rgba(142,160,181,.25)";
  g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    g.beginPath(); g.moveTo(pad.l, y(v)); g.lineTo(w - pad.r, y(v)); g.stroke();
    g.fillText(v.toFixed(Math.abs(hi - lo) < 10 ? 2 : 0), 4, y(v) + 4);
  }
  g.fillText(new Date(t0).toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false }), pad.l, h - 4);
  g.fillText(new Date(t1).toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false }), w - pad.r - 50, h - 4);

  if (points.some((p) => Number.isFinite(p.lo) && Number.isFinite(p.hi))) {
    g.fillStyle = "rgba(63,167,255,.15)";
    g.beginPath();
    points.forEach((p, i) => { const px = x(+new Date(p.t)); i ? g.lineTo(px, y(p.hi)) : g.moveTo(px, y(p.hi)); });
    [...points].reverse().forEach((p) => g.lineTo(x(+new Date(p.t)), y(p.lo)));
    g.closePath(); g.fill();
  }
  g.strokeStyle = "#3fa7ff";
  g.lineWidth = 2;
  g.beginPath();
  points.forEach((p, i) => { const px = x(+new Date(p.t)), py = y(p.v); i ? g.lineTo(px, py) : g.moveTo(px, py); });
  g.stroke();

  g.setLineDash([6, 4]);
  for (const [name, v] of Object.entries(thresholds)) {
    if (!Number.isFinite(v)) continue;
    g.strokeStyle = COLOURS[name] || "#aaa";
    g.beginPath(); g.moveTo(pad.l, y(v)); g.lineTo(w - pad.r, y(v)); g.stroke();
    g.fillStyle = COLOURS[name] || "#aaa";
    g.fillText(`${name.toUpperCase()} ${v}${unit}`, w - pad.r + 4, y(v) + 4);
  }
  g.setLineDash([]);
  g.fillStyle = text;
  g.fillText(`${label}${unit ? ` (${unit})` : ""}`, pad.l, 12);
  canvas.dataset.points = String(points.length);
}
