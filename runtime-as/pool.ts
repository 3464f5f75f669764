// f32 pooling family, NHWC: max pooling, its gradient (dy to each window's first
// maximum, summed where windows overlap) and that gradient's transpose (g read at the
// first maximum), average pooling and its gradient. Semantics are compiler/ops/conv.ts's:
// a window holds only its in-image cells, in row-major order; padding never wins a
// maximum and is not counted in an average. Pointers are byte offsets.
//
// `__simd128` vectorises over channels, 4 at a time, with a scalar loop for the last
// C % 4. The first maximum is `pmax(best, v)`, which keeps best unless v > best,
// exactly the reference's strict comparison (NaN and signed zeros included); the
// gradients carry the winning cell's ordinal in an i32x4 and add dy, masked, into
// every cell of the window, so overlapping windows need no scatter.

/** The window of output (oy, ox): its first in-image cell and its in-image extent. */
let cellRows: i32 = 0, cellCols: i32 = 0;

@inline function windowStart(b: i32, oy: i32, ox: i32, h: i32, w: i32, c: i32, poolH: i32, poolW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32): usize {
  const iy0 = oy * strideH - padTop, ix0 = ox * strideW - padLeft;
  const y0 = max(0, iy0), x0 = max(0, ix0);
  cellRows = min(h, iy0 + poolH) - y0;
  cellCols = min(w, ix0 + poolW) - x0;
  return <usize>(((b * h + y0) * w + x0) * c) << 2;
}

export function f32_maxpool2d_nhwc__simd128(
  n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, poolH: i32, poolW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32,
  x: usize, y: usize,
): void {
  const pixel = <usize>c << 2, rowBytes = <usize>w * pixel;
  let out = y;
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++, out += pixel) {
    const start = x + windowStart(b, oy, ox, h, w, c, poolH, poolW, strideH, strideW, padTop, padLeft);
    const nr = cellRows, nc = cellCols;
    let ch = 0;
    if (nr == 2 && nc == 2) { // the common 2×2 window, unrolled: the same cells in the same order
      for (; ch + 4 <= c; ch += 4) {
        const p0 = start + (<usize>ch << 2), p1 = p0 + rowBytes;
        const top = f32x4.pmax(v128.load(p0), v128.load(p0 + pixel));
        v128.store(out + (<usize>ch << 2), f32x4.pmax(f32x4.pmax(top, v128.load(p1)), v128.load(p1 + pixel)));
      }
    }
    for (; ch + 4 <= c; ch += 4) {
      const p0 = start + (<usize>ch << 2);
      let best = v128.load(p0);
      for (let r = 0, row = p0; r < nr; r++, row += rowBytes) {
        for (let k = 0, p = row; k < nc; k++, p += pixel) best = f32x4.pmax(best, v128.load(p));
      }
      v128.store(out + (<usize>ch << 2), best);
    }
    for (; ch < c; ch++) { // the last C % 4 channels
      const p0 = start + (<usize>ch << 2);
      let best = load<f32>(p0);
      for (let r = 0, row = p0; r < nr; r++, row += rowBytes) {
        for (let k = 0, p = row; k < nc; k++, p += pixel) { const v = load<f32>(p); if (v > best) best = v; }
      }
      store<f32>(out + (<usize>ch << 2), best);
    }
  }
}

export function f32_maxpool2d_nhwc_grad__simd128(
  n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, poolH: i32, poolW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32,
  x: usize, dy: usize, dx: usize,
): void {
  memory.fill(dx, 0, <usize>(n * h * w * c) << 2);
  const pixel = <usize>c << 2, rowBytes = <usize>w * pixel;
  let d = dy;
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++, d += pixel) {
    const offset = windowStart(b, oy, ox, h, w, c, poolH, poolW, strideH, strideW, padTop, padLeft);
    const nr = cellRows, nc = cellCols;
    let ch = 0;
    if (nr == 2 && nc == 2) { // the common 2×2 window, unrolled: the same comparisons and adds in the same order
      for (; ch + 4 <= c; ch += 4) {
        const chb = <usize>ch << 2, p0 = x + offset + chb, p1 = p0 + rowBytes;
        const v0 = v128.load(p0), v1 = v128.load(p0 + pixel), v2 = v128.load(p1), v3 = v128.load(p1 + pixel);
        const w1 = f32x4.gt(v1, v0), b1 = v128.bitselect(v1, v0, w1);
        const w2 = f32x4.gt(v2, b1), b2 = v128.bitselect(v2, b1, w2);
        const w3 = f32x4.gt(v3, b2);
        // the winner's mask per cell: the last cell that beat the running maximum
        const m3 = w3, m2 = v128.andnot(w2, w3), m1 = v128.andnot(v128.andnot(w1, w2), w3);
        const m0 = v128.not(v128.or(v128.or(w1, w2), w3));
        const g = v128.load(d + chb), q0 = dx + offset + chb, q1 = q0 + rowBytes;
        v128.store(q0, f32x4.add(v128.load(q0), v128.and(g, m0)));
        v128.store(q0 + pixel, f32x4.add(v128.load(q0 + pixel), v128.and(g, m1)));
        v128.store(q1, f32x4.add(v128.load(q1), v128.and(g, m2)));
        v128.store(q1 + pixel, f32x4.add(v128.load(q1 + pixel), v128.and(g, m3)));
      }
    }
    for (; ch + 4 <= c; ch += 4) {
      const p0 = x + offset + (<usize>ch << 2);
      const win = firstMaxCell(p0, nr, nc, pixel, rowBytes);
      const g = v128.load(d + (<usize>ch << 2));
      // every cell gets dy where it is the winner, +0 elsewhere
      const q0 = dx + offset + (<usize>ch << 2);
      let k = 0;
      for (let r = 0, row = q0; r < nr; r++, row += rowBytes) {
        for (let j = 0, q = row; j < nc; j++, q += pixel, k++) {
          v128.store(q, f32x4.add(v128.load(q), v128.and(g, i32x4.eq(win, i32x4.splat(k)))));
        }
      }
    }
    for (; ch < c; ch++) {
      const at = firstMaxScalar(x + offset + (<usize>ch << 2), nr, nc, pixel, rowBytes);
      const q = dx + (at - x);
      store<f32>(q, load<f32>(q) + load<f32>(d + (<usize>ch << 2)));
    }
  }
}

export function f32_maxpool2d_nhwc_select__simd128(
  n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, poolH: i32, poolW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32,
  x: usize, g: usize, out: usize,
): void {
  const pixel = <usize>c << 2, rowBytes = <usize>w * pixel;
  let o = out;
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++, o += pixel) {
    const offset = windowStart(b, oy, ox, h, w, c, poolH, poolW, strideH, strideW, padTop, padLeft);
    const nr = cellRows, nc = cellCols;
    let ch = 0;
    if (nr == 2 && nc == 2) { // the common 2×2 window, unrolled: the same comparisons in the same order
      for (; ch + 4 <= c; ch += 4) {
        const chb = <usize>ch << 2, p0 = offset + chb, p1 = p0 + rowBytes;
        const v1 = v128.load(x + p0 + pixel), v2 = v128.load(x + p1), v3 = v128.load(x + p1 + pixel);
        let best = v128.load(x + p0), picked = v128.load(g + p0);
        let wins = f32x4.gt(v1, best);
        best = v128.bitselect(v1, best, wins); picked = v128.bitselect(v128.load(g + p0 + pixel), picked, wins);
        wins = f32x4.gt(v2, best);
        best = v128.bitselect(v2, best, wins); picked = v128.bitselect(v128.load(g + p1), picked, wins);
        wins = f32x4.gt(v3, best);
        picked = v128.bitselect(v128.load(g + p1 + pixel), picked, wins);
        v128.store(o + chb, picked);
      }
    }
    for (; ch + 4 <= c; ch += 4) {
      const chb = <usize>ch << 2;
      let best = v128.load(x + offset + chb), picked = v128.load(g + offset + chb);
      for (let r = 0, row = offset + chb; r < nr; r++, row += rowBytes) {
        for (let k = 0, p = row; k < nc; k++, p += pixel) {
          const v = v128.load(x + p), wins = f32x4.gt(v, best);
          best = v128.bitselect(v, best, wins);
          picked = v128.bitselect(v128.load(g + p), picked, wins);
        }
      }
      v128.store(o + chb, picked);
    }
    for (; ch < c; ch++) {
      const at = firstMaxScalar(x + offset + (<usize>ch << 2), nr, nc, pixel, rowBytes);
      store<f32>(o + (<usize>ch << 2), load<f32>(g + (at - x)));
    }
  }
}

/** Per lane, the row-major ordinal of the window's first maximum among its nr × nc cells. */
function firstMaxCell(p0: usize, nr: i32, nc: i32, pixel: usize, rowBytes: usize): v128 {
  let best = v128.load(p0), win = i32x4.splat(0);
  let k = 0;
  for (let r = 0, row = p0; r < nr; r++, row += rowBytes) {
    for (let j = 0, p = row; j < nc; j++, p += pixel, k++) {
      const v = v128.load(p), wins = f32x4.gt(v, best);
      best = v128.bitselect(v, best, wins);
      win = v128.bitselect(i32x4.splat(k), win, wins);
    }
  }
  return win;
}

/** The address of the window's first maximum for one channel. */
function firstMaxScalar(p0: usize, nr: i32, nc: i32, pixel: usize, rowBytes: usize): usize {
  let at = p0, best = load<f32>(p0);
  for (let r = 0, row = p0; r < nr; r++, row += rowBytes) {
    for (let j = 0, p = row; j < nc; j++, p += pixel) {
      const v = load<f32>(p);
      if (v > best) { best = v; at = p; }
    }
  }
  return at;
}

export function f32_avgpool2d_nhwc__simd128(
  n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, poolH: i32, poolW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32,
  x: usize, y: usize,
): void {
  const pixel = <usize>c << 2, rowBytes = <usize>w * pixel;
  let out = y;
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++, out += pixel) {
    const start = x + windowStart(b, oy, ox, h, w, c, poolH, poolW, strideH, strideW, padTop, padLeft);
    const nr = cellRows, nc = cellCols;
    const count = <f32>(nr * nc); // in-image cells only
    let ch = 0;
    for (; ch + 4 <= c; ch += 4) {
      let sum = f32x4.splat(0);
      for (let r = 0, row = start + (<usize>ch << 2); r < nr; r++, row += rowBytes) {
        for (let k = 0, p = row; k < nc; k++, p += pixel) sum = f32x4.add(sum, v128.load(p));
      }
      v128.store(out + (<usize>ch << 2), f32x4.div(sum, f32x4.splat(count)));
    }
    for (; ch < c; ch++) {
      let sum: f32 = 0;
      for (let r = 0, row = start + (<usize>ch << 2); r < nr; r++, row += rowBytes) {
        for (let k = 0, p = row; k < nc; k++, p += pixel) sum += load<f32>(p);
      }
      store<f32>(out + (<usize>ch << 2), sum / count);
    }
  }
}

export function f32_avgpool2d_nhwc_grad__simd128(
  n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, poolH: i32, poolW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32,
  dy: usize, dx: usize,
): void {
  memory.fill(dx, 0, <usize>(n * h * w * c) << 2);
  const pixel = <usize>c << 2, rowBytes = <usize>w * pixel;
  let d = dy;
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++, d += pixel) {
    const start = dx + windowStart(b, oy, ox, h, w, c, poolH, poolW, strideH, strideW, padTop, padLeft);
    const nr = cellRows, nc = cellCols;
    const count = <f32>(nr * nc);
    let ch = 0;
    for (; ch + 4 <= c; ch += 4) {
      const share = f32x4.div(v128.load(d + (<usize>ch << 2)), f32x4.splat(count));
      for (let r = 0, row = start + (<usize>ch << 2); r < nr; r++, row += rowBytes) {
        for (let k = 0, q = row; k < nc; k++, q += pixel) v128.store(q, f32x4.add(v128.load(q), share));
      }
    }
    for (; ch < c; ch++) {
      const share = load<f32>(d + (<usize>ch << 2)) / count;
      for (let r = 0, row = start + (<usize>ch << 2); r < nr; r++, row += rowBytes) {
        for (let k = 0, q = row; k < nc; k++, q += pixel) store<f32>(q, load<f32>(q) + share);
      }
    }
  }
}

// ---- scalar references: the op table's loops, one channel at a time ----------------------

export function f32_maxpool2d_nhwc__scalar(
  n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, poolH: i32, poolW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32,
  x: usize, y: usize,
): void {
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) for (let ch = 0; ch < c; ch++) {
    const at = scalarFirstMax(b, oy, ox, ch, h, w, c, poolH, poolW, strideH, strideW, padTop, padLeft, x);
    store<f32>(y + (<usize>(((b * oh + oy) * ow + ox) * c + ch) << 2), load<f32>(x + (<usize>at << 2)));
  }
}

export function f32_maxpool2d_nhwc_grad__scalar(
  n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, poolH: i32, poolW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32,
  x: usize, dy: usize, dx: usize,
): void {
  memory.fill(dx, 0, <usize>(n * h * w * c) << 2);
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) for (let ch = 0; ch < c; ch++) {
    const q = dx + (<usize>scalarFirstMax(b, oy, ox, ch, h, w, c, poolH, poolW, strideH, strideW, padTop, padLeft, x) << 2);
    store<f32>(q, load<f32>(q) + load<f32>(dy + (<usize>(((b * oh + oy) * ow + ox) * c + ch) << 2)));
  }
}

export function f32_maxpool2d_nhwc_select__scalar(
  n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, poolH: i32, poolW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32,
  x: usize, g: usize, out: usize,
): void {
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) for (let ch = 0; ch < c; ch++) {
    const at = scalarFirstMax(b, oy, ox, ch, h, w, c, poolH, poolW, strideH, strideW, padTop, padLeft, x);
    store<f32>(out + (<usize>(((b * oh + oy) * ow + ox) * c + ch) << 2), load<f32>(g + (<usize>at << 2)));
  }
}

/** The flat index of the first in-image cell holding the window's maximum. */
function scalarFirstMax(b: i32, oy: i32, ox: i32, ch: i32, h: i32, w: i32, c: i32, poolH: i32, poolW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, x: usize): i32 {
  let at = -1, best: f32 = 0;
  for (let ky = 0; ky < poolH; ky++) for (let kx = 0; kx < poolW; kx++) {
    const iy = oy * strideH - padTop + ky, ix = ox * strideW - padLeft + kx;
    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue; // padding never counts
    const i = ((b * h + iy) * w + ix) * c + ch, v = load<f32>(x + (<usize>i << 2));
    if (at < 0 || v > best) { at = i; best = v; }
  }
  return at;
}

export function f32_avgpool2d_nhwc__scalar(
  n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, poolH: i32, poolW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32,
  x: usize, y: usize,
): void {
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) for (let ch = 0; ch < c; ch++) {
    let sum: f32 = 0, count = 0;
    for (let ky = 0; ky < poolH; ky++) for (let kx = 0; kx < poolW; kx++) {
      const iy = oy * strideH - padTop + ky, ix = ox * strideW - padLeft + kx;
      if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
      sum += load<f32>(x + (<usize>(((b * h + iy) * w + ix) * c + ch) << 2));
      count++;
    }
    store<f32>(y + (<usize>(((b * oh + oy) * ow + ox) * c + ch) << 2), sum / <f32>count);
  }
}

export function f32_avgpool2d_nhwc_grad__scalar(
  n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, poolH: i32, poolW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32,
  dy: usize, dx: usize,
): void {
  memory.fill(dx, 0, <usize>(n * h * w * c) << 2);
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) for (let ch = 0; ch < c; ch++) {
    let count = 0;
    for (let ky = 0; ky < poolH; ky++) for (let kx = 0; kx < poolW; kx++) {
      const iy = oy * strideH - padTop + ky, ix = ox * strideW - padLeft + kx;
      if (iy >= 0 && iy < h && ix >= 0 && ix < w) count++;
    }
    const share = load<f32>(dy + (<usize>(((b * oh + oy) * ow + ox) * c + ch) << 2)) / <f32>count;
    for (let ky = 0; ky < poolH; ky++) for (let kx = 0; kx < poolW; kx++) {
      const iy = oy * strideH - padTop + ky, ix = ox * strideW - padLeft + kx;
      if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
      const q = dx + (<usize>(((b * h + iy) * w + ix) * c + ch) << 2);
      store<f32>(q, load<f32>(q) + share);
    }
  }
}
