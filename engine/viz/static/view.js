// coordsweep view: the page of `coordsweep view STORE`. Everything it needs
// comes from the server that served it (api/meta, api/slice, api/point,
// api/solve, api/progress); see engine/viz/view.py.
"use strict";

const $ = (id) => document.getElementById(id);
const M = { left: 78, right: 16, top: 12, bottom: 52 };   // map margins (px)
const MISSING_RGB = [255, 255, 255];
const S = {
  meta: null, slice: null, seq: 0, shown: 0, cursor: null, picked: null,
  progress: null, drawn: 0,
};

function fmt(v) {
  if (v === null || v === undefined) return "NaN";
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Number.isInteger(v)) return String(v);
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return (a !== 0 && (a < 1e-3 || a >= 1e5)) ? v.toExponential(4) : String(+v.toPrecision(6));
}

function rgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function pale(c) { return c.map((v) => Math.round(v + (255 - v) * 0.55)); }

async function getJSON(url) {
  const r = await fetch(url);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

// ------------------------------------------------------------------ controls

function fillSelect(sel, names, value) {
  sel.textContent = "";
  for (const n of names) {
    const o = document.createElement("option");
    o.value = n; o.textContent = n;
    sel.appendChild(o);
  }
  if (value !== undefined && value !== null) sel.value = value;
}

function variableMeta(name) { return S.meta.variables.find((v) => v.name === name); }

function sliderDims() {
  // every axis of length > 1 that is not on the map, and the other dims
  // of the outputs (equilibrium), each a slider named after it
  const m = S.meta, x = $("x").value, y = $("y").value;
  const dims = [];
  for (const a of m.axes) {
    if (a.size > 1 && (m.design || (a.name !== x && a.name !== y))) dims.push(a);
  }
  for (const e of m.extra) if (e.size > 1) dims.push(e);
  return dims;
}

function buildSliders() {
  const box = $("sliders");
  const old = {};
  for (const inp of box.querySelectorAll("input")) old[inp.dataset.dim] = +inp.value;
  for (const el of box.querySelectorAll(".slider")) el.remove();
  const dims = sliderDims();
  box.hidden = dims.length === 0;
  for (const d of dims) {
    const div = document.createElement("div");
    div.className = "slider";
    const id = "dim-" + d.name.replace(/[^A-Za-z0-9_-]/g, "_");
    const lab = document.createElement("label");
    lab.htmlFor = id; lab.textContent = d.name;
    const inp = document.createElement("input");
    inp.type = "range"; inp.id = id; inp.min = 0; inp.max = d.size - 1; inp.step = 1;
    inp.dataset.dim = d.name;
    inp.value = d.name in old ? old[d.name] : (S.meta.extra.includes(d) ? 0 : Math.floor(d.size / 2));
    const out = document.createElement("output");
    out.htmlFor = id;
    const say = () => {
      const v = d.values[+inp.value];
      out.textContent = `${fmt(v)}  (${+inp.value + 1} of ${d.size})`;
      inp.setAttribute("aria-valuetext", `${d.name} = ${fmt(v)}`);
    };
    say();
    inp.addEventListener("input", () => { say(); update(); });
    div.append(lab, inp, out);
    box.appendChild(div);
  }
}

function syncSector() {
  // the sector, and the sliders of the outputs' other dims (equilibrium),
  // only where the variable has them
  const v = variableMeta($("variable").value);
  $("sector").disabled = !v.per_sector;
  for (const inp of $("sliders").querySelectorAll("input")) {
    if (S.meta.extra.some((e) => e.name === inp.dataset.dim)) inp.disabled = !v.dims.includes(inp.dataset.dim);
  }
}

function query(extra) {
  const p = new URLSearchParams();
  p.set("variable", $("variable").value);
  p.set("sector", $("sector").value);
  p.set("x", $("x").value);
  if ($("y").value) p.set("y", $("y").value);
  for (const inp of $("sliders").querySelectorAll("input")) p.set("i." + inp.dataset.dim, inp.value);
  for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
  return p.toString();
}

// ------------------------------------------------------------------ slices

function unpack(buf) {
  const dv = new DataView(buf);
  const hlen = dv.getUint32(0, true);
  const h = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, hlen)));
  let off = 4 + hlen;
  const f64 = () => { const a = new Float64Array(buf.slice(off, off + 8 * h.n)); off += 8 * h.n; return a; };
  const s = { h, values: f64() };
  if (h.design) { s.xs = f64(); s.ys = f64(); s.sample = f64(); }
  s.flags = new Uint8Array(buf.slice(off, off + h.n));
  return s;
}

async function update() {
  const seq = ++S.seq;
  let s;
  try {
    const r = await fetch("api/slice?" + query());
    if (!r.ok) throw new Error((await r.json()).error || r.statusText);
    s = unpack(await r.arrayBuffer());
  } catch (e) {
    if (seq === S.seq) $("caption").textContent = "cannot read the slice: " + e.message;
    return;
  }
  if (seq < S.shown) return;          // an older answer after a newer one
  S.shown = seq;
  S.slice = s;
  if (S.cursor && !inside(S.cursor)) S.cursor = null;
  draw();
  legend();
  caption();
  if (S.cursor) hover(S.cursor);
  S.drawn += 1;
  document.body.dataset.drawn = String(S.drawn);
  window.__lastDraw = performance.now();
}

function inside(c) {
  const h = S.slice.h;
  return h.design ? c.k < h.n : (c.col < h.nx && c.row < h.ny);
}

// colours of each point of the slice, as [r, g, b] per point (null: missing)
function colours() {
  const { h, values, flags } = S.slice;
  const n = h.n, out = new Array(n);
  const nonfinite = rgb(S.meta.colors.nonfinite);
  if (h.discrete) {
    const byCode = new Map(h.legend.map((e) => [e.code, rgb(e.color)]));
    for (let k = 0; k < n; k++) {
      const v = values[k];
      let c = Number.isFinite(v) ? (byCode.get(v) || nonfinite) : (flags[k] === 1 || flags[k] === 3 ? null : nonfinite);
      if (c && flags[k] === 2) c = pale(c);
      out[k] = c;
    }
  } else {
    const lut = S.meta.viridis.map(rgb), lo = h.vmin, span = (h.vmax - h.vmin) || 1;
    for (let k = 0; k < n; k++) {
      const v = values[k];
      let c;
      if (flags[k] === 1 || flags[k] === 3) c = null;
      else if (Number.isFinite(v)) c = lut[Math.max(0, Math.min(255, Math.floor((v - lo) / span * 255.999)))];
      else c = flags[k] === 2 ? pale([150, 150, 150]) : nonfinite;
      if (c && flags[k] === 2 && Number.isFinite(v)) c = pale(c);
      out[k] = c;
    }
  }
  return out;
}

function plotBox(canvas) {
  return { x0: M.left, y0: M.top, w: canvas.width - M.left - M.right, h: canvas.height - M.top - M.bottom };
}

function niceTicks(lo, hi, n) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const step0 = span / n, mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0);
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * span; t += step) out.push(+t.toPrecision(12));
  return out;
}

function axisTicks(lo, hi, log) {
  // positions in the drawn (log10 when log) coordinate, and their labels
  if (!log) return niceTicks(lo, hi, 5).map((t) => [t, fmt(t)]);
  const ints = [];
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) ints.push(e);
  if (ints.length >= 2) return ints.map((e) => [e, fmt(Math.pow(10, e))]);
  return niceTicks(lo, hi, 4).map((t) => [t, fmt(+Math.pow(10, t).toPrecision(3))]);
}

function frame(ctx, b, xr, yr, xlog, ylog, xlabel, ylabel) {
  ctx.strokeStyle = "#333"; ctx.fillStyle = "#222"; ctx.lineWidth = 1;
  ctx.strokeRect(b.x0 - 0.5, b.y0 - 0.5, b.w + 1, b.h + 1);
  ctx.font = "12px system-ui, sans-serif";
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (const [t, lab] of axisTicks(xr[0], xr[1], xlog)) {
    const px = b.x0 + (t - xr[0]) / (xr[1] - xr[0]) * b.w;
    ctx.beginPath(); ctx.moveTo(px, b.y0 + b.h); ctx.lineTo(px, b.y0 + b.h + 5); ctx.stroke();
    ctx.fillText(lab, px, b.y0 + b.h + 7);
  }
  ctx.fillText(xlabel, b.x0 + b.w / 2, b.y0 + b.h + 26);
  if (yr) {
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (const [t, lab] of axisTicks(yr[0], yr[1], ylog)) {
      const py = b.y0 + b.h - (t - yr[0]) / (yr[1] - yr[0]) * b.h;
      ctx.beginPath(); ctx.moveTo(b.x0 - 5, py); ctx.lineTo(b.x0, py); ctx.stroke();
      ctx.fillText(lab, b.x0 - 7, py);
    }
    ctx.save();
    ctx.translate(14, b.y0 + b.h / 2); ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    ctx.fillText(ylabel, 0, 0);
    ctx.restore();
  }
}

function bisect(edges, t) {   // index i with edges[i] <= t < edges[i+1]
  let lo = 0, hi = edges.length - 2;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (edges[mid] <= t) lo = mid; else hi = mid - 1; }
  return lo;
}

function draw() {
  const canvas = $("map"), ctx = canvas.getContext("2d", { willReadFrequently: true }), b = plotBox(canvas);
  canvas.dataset.plotbox = [b.x0, b.y0, b.w, b.h].join(",");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  const h = S.slice.h, cols = colours();
  if (h.design) return drawScatter(ctx, b, h, cols);
  const xe = h.xe, ye = h.ye, nx = h.nx, ny = h.ny;
  const colOf = new Int32Array(b.w), rowOf = new Int32Array(b.h);
  for (let px = 0; px < b.w; px++) colOf[px] = bisect(xe, xe[0] + (px + 0.5) / b.w * (xe[nx] - xe[0]));
  for (let py = 0; py < b.h; py++) rowOf[py] = bisect(ye, ye[ny] - (py + 0.5) / b.h * (ye[ny] - ye[0]));
  const img = ctx.createImageData(b.w, b.h), d = img.data;
  for (let py = 0; py < b.h; py++) {
    const r = rowOf[py] * nx;
    for (let px = 0; px < b.w; px++) {
      const c = cols[r + colOf[px]] || MISSING_RGB, o = 4 * (py * b.w + px);
      d[o] = c[0]; d[o + 1] = c[1]; d[o + 2] = c[2]; d[o + 3] = 255;
    }
  }
  ctx.putImageData(img, b.x0, b.y0);
  const X = (t) => b.x0 + (t - xe[0]) / (xe[nx] - xe[0]) * b.w;
  const Y = (t) => b.y0 + b.h - (t - ye[0]) / (ye[ny] - ye[0]) * b.h;
  S.geom = { X, Y, b };
  // hatch the points not computed yet, outline filled points' cells
  ctx.save();
  ctx.beginPath(); ctx.rect(b.x0, b.y0, b.w, b.h); ctx.clip();
  const { flags, values } = S.slice;
  ctx.strokeStyle = "#999"; ctx.lineWidth = 1;
  for (let i = 0; i < ny; i++) for (let j = 0; j < nx; j++) {
    if (flags[i * nx + j] !== 1) continue;
    const x0 = X(xe[j]), x1 = X(xe[j + 1]), y0 = Y(ye[i + 1]), y1 = Y(ye[i]);
    ctx.save(); ctx.beginPath(); ctx.rect(x0, y0, x1 - x0, y1 - y0); ctx.clip();
    ctx.beginPath();
    for (let t = x0 - (y1 - y0); t < x1; t += 6) { ctx.moveTo(t, y1); ctx.lineTo(t + (y1 - y0), y0); }
    ctx.stroke(); ctx.restore();
  }
  // category boundaries, as plot draws them
  if (h.discrete && nx * ny <= 250000) {
    ctx.strokeStyle = "#000"; ctx.lineWidth = Math.max(nx, ny) <= 120 ? 0.9 : 0.5;
    ctx.beginPath();
    const code = (k) => (flags[k] === 1 || flags[k] === 3 ? -flags[k] : (Number.isFinite(values[k]) ? values[k] : -2));
    for (let i = 0; i < ny; i++) for (let j = 0; j < nx; j++) {
      const k = i * nx + j;
      if (j + 1 < nx && code(k) !== code(k + 1)) { const px = X(xe[j + 1]); ctx.moveTo(px, Y(ye[i])); ctx.lineTo(px, Y(ye[i + 1])); }
      if (i + 1 < ny && code(k) !== code(k + nx)) { const py = Y(ye[i + 1]); ctx.moveTo(X(xe[j]), py); ctx.lineTo(X(xe[j + 1]), py); }
    }
    ctx.stroke();
  }
  ctx.restore();
  frame(ctx, b, [xe[0], xe[nx]], h.y ? [ye[0], ye[ny]] : null, h.xlog, h.ylog, h.xlabel, h.ylabel);
  drawCursor(ctx);
}

function scatterRange(vals, log) {
  let lo = Infinity, hi = -Infinity;
  for (const v of vals) { const t = log ? Math.log10(v) : v; if (Number.isFinite(t)) { lo = Math.min(lo, t); hi = Math.max(hi, t); } }
  if (!(hi > lo)) { lo = Number.isFinite(lo) ? lo - 0.5 : 0; hi = lo + 1; }
  const pad = 0.03 * (hi - lo);
  return [lo - pad, hi + pad];
}

function drawScatter(ctx, b, h, cols) {
  const px = S.meta.params.find((p) => p.name === h.x), py = S.meta.params.find((p) => p.name === h.y);
  const xlog = !!(px && px.log), ylog = !!(h.y && py && py.log);
  // (no y: a design of one parameter, its samples on one line)
  const xr = scatterRange(S.slice.xs, xlog), yr = h.y ? scatterRange(S.slice.ys, ylog) : [-1, 1];
  const X = (v) => b.x0 + ((xlog ? Math.log10(v) : v) - xr[0]) / (xr[1] - xr[0]) * b.w;
  const Y = (v) => b.y0 + b.h - ((ylog ? Math.log10(v) : v) - yr[0]) / (yr[1] - yr[0]) * b.h;
  S.geom = { X, Y, b };
  const n = h.n, r = n > 20000 ? 1.2 : n > 2000 ? 2 : 3.5;
  const pts = S.slice;
  for (let k = 0; k < n; k++) {
    const c = cols[k], x = X(pts.xs[k]), y = Y(pts.ys[k]);
    ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI);
    if (c) { ctx.fillStyle = `rgb(${c[0]},${c[1]},${c[2]})`; ctx.fill(); }
    else { ctx.strokeStyle = "#999"; ctx.lineWidth = 1; ctx.stroke(); }
  }
  frame(ctx, b, xr, h.y ? yr : null, xlog, ylog, h.xlabel, h.ylabel);
  drawCursor(ctx);
}

function drawCursor(ctx) {
  const c = S.cursor;
  if (!c || !S.geom) return;
  const { X, Y } = S.geom, h = S.slice.h;
  ctx.save(); ctx.strokeStyle = "#000"; ctx.lineWidth = 2;
  if (h.design) {
    ctx.beginPath(); ctx.arc(X(S.slice.xs[c.k]), Y(S.slice.ys[c.k]), 7, 0, 2 * Math.PI); ctx.stroke();
  } else {
    const x0 = X(h.xe[c.col]), x1 = X(h.xe[c.col + 1]), y0 = Y(h.ye[c.row + 1]), y1 = Y(h.ye[c.row]);
    ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 1; ctx.strokeRect(x0 + 2, y0 + 2, x1 - x0 - 4, y1 - y0 - 4);
  }
  ctx.restore();
}

// ------------------------------------------------------------------ legend

function legend() {
  const box = $("legend"), h = S.slice.h;
  box.textContent = "";
  const title = document.createElement("p");
  title.textContent = h.label;
  box.appendChild(title);
  const ul = document.createElement("ul");
  const item = (color, text, cls, count) => {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = "swatch" + (cls ? " " + cls : "");
    if (color) sw.style.background = color;
    sw.setAttribute("aria-hidden", "true");
    li.append(sw, document.createTextNode(text + (count !== undefined ? ` (${count.toLocaleString()})` : "")));
    ul.appendChild(li);
    return li;
  };
  if (h.discrete) {
    for (const e of h.legend) {
      const li = item(e.color, e.name, "", e.count);
      if (!e.count) li.classList.add("absent");
    }
  } else {
    const cb = document.createElement("canvas");
    cb.id = "colorbar"; cb.width = 400; cb.height = 14; cb.setAttribute("aria-hidden", "true");
    const ctx = cb.getContext("2d");
    S.meta.viridis.forEach((c, i) => { ctx.fillStyle = c; ctx.fillRect(i * 400 / 256, 0, 400 / 256 + 1, 14); });
    const ticks = document.createElement("div");
    ticks.className = "cbticks";
    const mid = (h.vmin + h.vmax) / 2;
    for (const v of [h.vmin, mid, h.vmax]) { const s = document.createElement("span"); s.textContent = fmt(v); ticks.appendChild(s); }
    box.append(cb, ticks);
    if (h.nonfinite) item(S.meta.colors.nonfinite, "not finite or not trusted (status)", "", h.nonfinite);
  }
  if (h.filled) item("#888", "filled: not solved, the value of its refinement cell's corners", "pale", h.filled);
  if (h.unsolved) item(null, "not solved: the refinement fills only its refined outputs", "", h.unsolved);
  if (h.missing) item(null, "missing (not computed yet)", "hatch", h.missing);
  box.appendChild(ul);
}

function caption() {
  const h = S.slice.h;
  let t = h.variable + (h.sector ? ` (${h.sector})` : "");
  const sel = Object.entries(h.selection).map(([k, v]) => `${k} = ${fmt(v)}`);
  for (const inp of $("sliders").querySelectorAll("input")) {
    const e = S.meta.extra.find((d) => d.name === inp.dataset.dim);
    if (e) sel.push(`${e.name} = ${fmt(e.values[+inp.value])}`);
  }
  if (sel.length) t += "\n" + sel.join(", ");
  if (h.design && h.n < h.total) t += `\n${h.n.toLocaleString()} of ${h.total.toLocaleString()} samples shown (evenly spaced)`;
  $("caption").textContent = t;
}

// ------------------------------------------------------------------ points

function pointAt(ev) {
  const canvas = $("map"), rect = canvas.getBoundingClientRect();
  const mx = (ev.clientX - rect.left) * canvas.width / rect.width;
  const my = (ev.clientY - rect.top) * canvas.height / rect.height;
  const b = plotBox(canvas), h = S.slice && S.slice.h;
  if (!h || !S.geom) return null;
  if (h.design) {
    const { X, Y } = S.geom;
    let best = null, bd = 100;   // within 10 px
    for (let k = 0; k < h.n; k++) {
      const d = (X(S.slice.xs[k]) - mx) ** 2 + (Y(S.slice.ys[k]) - my) ** 2;
      if (d < bd) { bd = d; best = { k }; }
    }
    return best;
  }
  if (mx < b.x0 || mx >= b.x0 + b.w || my < b.y0 || my >= b.y0 + b.h) return null;
  const tx = h.xe[0] + (mx - b.x0) / b.w * (h.xe[h.nx] - h.xe[0]);
  const ty = h.ye[h.ny] - (my - b.y0) / b.h * (h.ye[h.ny] - h.ye[0]);
  return { col: bisect(h.xe, tx), row: bisect(h.ye, ty) };
}

function flatIndex(c) { return S.slice.h.design ? c.k : c.row * S.slice.h.nx + c.col; }

function describeValue(k) {
  const { h, values, flags } = S.slice;
  if (flags[k] === 1) return "not computed yet";
  const v = values[k];
  let s = Number.isFinite(v) ? fmt(v) : "NaN";
  if (h.discrete && Number.isFinite(v)) {
    const e = h.legend.find((l) => l.code === v);
    if (e && e.name !== String(v)) s = e.name;
  }
  if (flags[k] === 3) return "not solved (a refinement fills only its refined outputs)";
  return s + (flags[k] === 2 ? " (filled)" : "");
}

function where(c) {
  const h = S.slice.h;
  if (h.design) return `sample ${S.slice.sample[c.k]}: ${h.x} = ${fmt(S.slice.xs[c.k])}` + (h.y ? `, ${h.y} = ${fmt(S.slice.ys[c.k])}` : "");
  return `${h.x} = ${fmt(h.xc[c.col])}` + (h.y ? `, ${h.y} = ${fmt(h.yc[c.row])}` : "");
}

function hover(c) {
  if (!c) return;
  const h = S.slice.h;
  $("hover").textContent = `${where(c)}: ${h.variable}${h.sector ? " (" + h.sector + ")" : ""} = ${describeValue(flatIndex(c))}`;
}

function pointQuery(c) {
  const h = S.slice.h, extra = {};
  if (h.design) extra["i.sample"] = S.slice.sample[c.k];
  else {
    extra["i." + h.x] = h.xi[c.col];
    if (h.y) extra["i." + h.y] = h.yi[c.row];
  }
  const p = new URLSearchParams(query(extra));
  for (const a of S.meta.axes) if (!p.has("i." + a.name)) p.set("i." + a.name, 0);
  return p.toString();
}

function perSector(v, per, sectors, unsolved) {
  // (unsolved: an output a refinement does not fill, null where not solved)
  const f = (x) => (unsolved && x === null ? "not solved" : fmt(x));
  if (!per || !Array.isArray(v)) return Array.isArray(v) && !unsolved ? v.map(f).join(", ") : f(v);
  return v.map((x, i) => `${sectors[i]}: ${f(x)}`).join(", ");
}

function cell(v) {
  if (Array.isArray(v)) return v.map(fmt).join(", ");
  return fmt(v);
}

function outputsTable(entries, sectors, columns) {
  const t = document.createElement("table");
  const head = t.createTHead().insertRow();
  for (const c of columns) { const th = document.createElement("th"); th.textContent = c[0]; head.appendChild(th); }
  const body = t.createTBody();
  for (const e of entries) {
    const row = body.insertRow();
    for (const c of columns) {
      const td = row.insertCell();
      const v = c[1](e);
      td.textContent = v;
      if (c[2]) c[2](td, e);
    }
  }
  return t;
}

async function pick(c) {
  if (!c) return;
  S.picked = pointQuery(c);
  $("solve").disabled = false;
  $("solveinfo").textContent = "";
  $("solvestatus").textContent = "";
  const box = $("pointinfo");
  try {
    const p = await getJSON("api/point?" + S.picked);
    box.textContent = "";
    const head = document.createElement("p");
    head.textContent = Object.entries(p.coordinates).map(([k, v]) => `${k} = ${fmt(v)}`).join(", ") + ` — ${p.state}`;
    box.appendChild(head);
    const entries = Object.entries(p.outputs).map(([name, e]) => ({ name, ...e }));
    if (entries.length) {
      const cap = document.createElement("p");
      cap.textContent = `sectors: ${p.sectors.join(", ")}`;
      box.append(cap, outputsTable(entries, p.sectors, [
        ["output", (e) => e.name],
        ["value", (e) => perSector(e.names !== undefined ? e.names : e.value, e.per_sector, p.sectors, e.not_solved)],
      ]));
    }
  } catch (e) {
    box.innerHTML = "";
    const p = document.createElement("p"); p.className = "error"; p.textContent = e.message; box.appendChild(p);
  }
}

async function solvePicked() {
  if (!S.picked) return;
  const btn = $("solve"), box = $("solveinfo");
  btn.disabled = true;
  $("solvestatus").textContent = "solving…";
  box.textContent = "";
  try {
    const r = await getJSON("api/solve?" + S.picked);
    $("solvestatus").textContent = `solved at ${Object.entries(r.at).map(([k, v]) => `${k} = ${fmt(v)}`).join(", ")}`;
    if (r.lacks.length) {
      const h = document.createElement("h3"); h.textContent = "Not in the store"; box.appendChild(h);
      box.appendChild(outputsTable(r.lacks, r.sectors, [
        ["output", (e) => e.name],
        ["value", (e) => (e.name === "eq_mask" ? equilibria(e.solved, r.sectors) : cell(e.solved))],
      ]));
    }
    const h = document.createElement("h3"); h.textContent = "Solved against stored"; box.appendChild(h);
    box.appendChild(outputsTable(r.outputs, r.sectors, [
      ["output", (e) => e.name],
      ["solved", (e) => cell(e.solved)],
      ["stored", (e) => cell(e.stored)],
      ["", (e) => (e.same ? "same" : "differs"), (td, e) => { if (!e.same) td.className = "diff"; }],
    ]));
  } catch (e) {
    $("solvestatus").textContent = "cannot solve: " + e.message;
  } finally {
    btn.disabled = false;
  }
}

function equilibria(masks, sectors) {
  if (!Array.isArray(masks)) return cell(masks);
  masks = masks.filter((m) => m !== 4294967295);     // the fill of unused places
  return masks.map((m) => {
    const on = sectors.filter((_, i) => (m >> i) & 1);
    return "{" + on.join(", ") + "}";
  }).join("  ") + `  (${masks.length} listed, best first)`;
}

function moveCursor(dx, dy) {
  const h = S.slice && S.slice.h;
  if (!h) return;
  if (h.design) {
    const k = S.cursor ? S.cursor.k : 0;
    S.cursor = { k: Math.max(0, Math.min(h.n - 1, k + dx - dy)) };
  } else {
    const c = S.cursor || { col: 0, row: 0 };
    S.cursor = { col: Math.max(0, Math.min(h.nx - 1, c.col + dx)), row: Math.max(0, Math.min(h.ny - 1, c.row + dy)) };
  }
  draw(); hover(S.cursor);
}

// ------------------------------------------------------------------ progress

function sayProgress(p) {
  const m = S.meta;
  let t = p.complete ? "complete" : `running: ${p.done.toLocaleString()} of ${p.total.toLocaleString()} chunks written (${(100 * p.done / Math.max(p.total, 1)).toFixed(1)}%); the map follows`;
  if (m.refined) t += " · refined store: pale points were filled, not solved";
  if (m.design) t += ` · design of ${m.samples.toLocaleString()} samples`;
  $("progress").textContent = t;
}

async function poll() {
  if (S.progress && S.progress.complete) return;
  try {
    const p = await getJSON("api/progress");
    const changed = !S.progress || p.done !== S.progress.done || p.complete !== S.progress.complete;
    S.progress = p;
    sayProgress(p);
    if (changed) await update();
  } catch (e) { /* the server stopped: keep what is shown */ return; }
  setTimeout(poll, 2000);
}

// ------------------------------------------------------------------ start

async function init() {
  const m = S.meta = await getJSON("api/meta");
  $("store").textContent = m.store + (m.title ? " — " + m.title : "");
  document.title = "coordsweep view: " + m.store;
  fillSelect($("variable"), m.variables.map((v) => v.name), m.defaults.variable);
  fillSelect($("sector"), m.sectors);
  const choices = m.design ? m.params.map((p) => p.name) : m.axes.map((a) => a.name);
  fillSelect($("x"), choices, m.defaults.x);
  if (m.defaults.y !== null) fillSelect($("y"), choices, m.defaults.y);
  else { fillSelect($("y"), []); $("y").disabled = true; }
  buildSliders();
  syncSector();
  S.progress = m.progress;
  sayProgress(m.progress);
  $("variable").addEventListener("change", () => { syncSector(); update(); });
  $("sector").addEventListener("change", update);
  for (const [a, b] of [["x", "y"], ["y", "x"]]) {
    $(a).addEventListener("change", () => {
      if ($(a).value === $(b).value) {   // swap rather than show one axis twice
        $(b).value = choices.find((c) => c !== $(a).value && c === $(a).dataset.prev) ||
          choices.find((c) => c !== $(a).value);
      }
      $("x").dataset.prev = $("x").value; $("y").dataset.prev = $("y").value;
      S.cursor = null;
      buildSliders(); syncSector(); update();
    });
  }
  $("x").dataset.prev = $("x").value; $("y").dataset.prev = $("y").value;
  const map = $("map");
  map.addEventListener("mousemove", (ev) => { const c = pointAt(ev); if (c) hover(c); });
  map.addEventListener("click", (ev) => { const c = pointAt(ev); if (c) { S.cursor = c; draw(); hover(c); pick(c); } });
  map.addEventListener("keydown", (ev) => {
    const step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] }[ev.key];
    if (step) { ev.preventDefault(); moveCursor(...step); }
    else if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); if (!S.cursor) moveCursor(0, 0); pick(S.cursor); }
  });
  $("solve").addEventListener("click", solvePicked);
  $("controls").addEventListener("submit", (ev) => ev.preventDefault());
  await update();
  if (!m.progress.complete) setTimeout(poll, 2000);
}

init().catch((e) => { $("caption").textContent = "cannot load the store: " + e.message; });
