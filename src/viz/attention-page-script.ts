// The browser side of the attention page (plain JS, inlined into the HTML).
// It reads the 'attention' data block written by attention-page.ts and draws
// on canvases: a head view (tokens linked by lines, one colour per head), a
// model view (layer × head thumbnails), a zoomable heatmap with a max-pooled
// overview for long inputs, and, for images, the attention laid over the image.

export const ATTENTION_PAGE_SCRIPT = `
(function () {
  const A = readData('attention');
  const HEAD_COLORS = A.headColors;
  const RAMP = A.ramp;
  function decode(b64) { const s = atob(b64); const u = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i); return u; }
  for (const layer of A.layers) {
    layer.overviews = layer.overviews.map((o) => ({ rows: o.rows, cols: o.cols, data: decode(o.data) }));
    layer.full = layer.full.map((f) => (f ? decode(f) : null));
  }
  const state = { layer: A.layers.length - 1, heads: A.layers[0].overviews.slice(1).map(() => true), detailHead: -1, zoom: null };
  const el = (id) => document.getElementById(id);

  function color(v) { const c = RAMP[Math.min(255, Math.max(0, v | 0))]; return 'rgb(' + c[0] + ',' + c[1] + ',' + c[2] + ')'; }

  // matrix source for (layer, head); head -1 = mean over heads (stored as the last entry)
  function matrix(layerIndex, head) {
    const layer = A.layers[layerIndex];
    const k = head < 0 ? layer.overviews.length - 1 : head;
    return { full: layer.full[k], overview: layer.overviews[k], rows: layer.queryLength, cols: layer.keyLength, max: layer.maxes[k] };
  }

  function drawCells(ctx, src, r0, r1, c0, c1, width, height) {
    // draws rows [r0, r1) × cols [c0, c1) of the full matrix (or the overview) into width × height pixels, max-pooled
    const useFull = !!src.full;
    const data = useFull ? src.full : src.overview.data;
    const R = useFull ? src.rows : src.overview.rows;
    const C = useFull ? src.cols : src.overview.cols;
    const rs = useFull ? 1 : src.rows / R;
    const cs = useFull ? 1 : src.cols / C;
    const a0 = Math.floor(r0 / rs), a1 = Math.max(a0 + 1, Math.ceil(r1 / rs));
    const b0 = Math.floor(c0 / cs), b1 = Math.max(b0 + 1, Math.ceil(c1 / cs));
    const img = ctx.createImageData(width, height);
    for (let y = 0; y < height; y++) {
      const ya = a0 + Math.floor((y * (a1 - a0)) / height), yb = Math.max(ya + 1, a0 + Math.floor(((y + 1) * (a1 - a0)) / height));
      for (let x = 0; x < width; x++) {
        const xa = b0 + Math.floor((x * (b1 - b0)) / width), xb = Math.max(xa + 1, b0 + Math.floor(((x + 1) * (b1 - b0)) / width));
        let m = 0;
        for (let i = ya; i < yb && i < R; i++) for (let j = xa; j < xb && j < C; j++) { const v = data[i * C + j]; if (v > m) m = v; }
        const c = RAMP[m]; const o = (y * width + x) * 4;
        img.data[o] = c[0]; img.data[o + 1] = c[1]; img.data[o + 2] = c[2]; img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
  }

  function drawHeadView() {
    const canvas = el('head-view');
    const layer = A.layers[state.layer];
    const q = layer.queryLabels, k = layer.keyLabels;
    const note = el('head-view-note');
    if (Math.max(q.length, k.length) > A.headViewLimit) {
      canvas.style.display = 'none';
      note.textContent = 'The head view draws up to ' + A.headViewLimit + ' tokens; this input has ' + Math.max(q.length, k.length) + '. Use the heatmap below.';
      return;
    }
    canvas.style.display = ''; note.textContent = '';
    const rowH = 18, top = 10;
    canvas.width = 520; canvas.height = top * 2 + rowH * Math.max(q.length, k.length);
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.font = '12px sans-serif'; ctx.textBaseline = 'middle';
    const xl = 170, xr = 350;
    const short = (t) => (t.length > 22 ? t.slice(0, 21) + '…' : t);
    ctx.fillStyle = '#222'; ctx.textAlign = 'right';
    q.forEach((t, i) => ctx.fillText(short(t), xl - 6, top + rowH * (i + 0.5)));
    ctx.textAlign = 'left';
    k.forEach((t, j) => ctx.fillText(short(t), xr + 6, top + rowH * (j + 0.5)));
    let drawn = 0;
    state.heads.forEach((on, h) => {
      if (!on) return;
      const src = matrix(state.layer, h);
      const data = src.full || src.overview.data;
      ctx.strokeStyle = HEAD_COLORS[h % HEAD_COLORS.length];
      for (let i = 0; i < q.length; i++) for (let j = 0; j < k.length; j++) {
        const w = data[i * k.length + j] / 255;
        if (w < 0.02) continue;
        ctx.globalAlpha = Math.min(1, w); ctx.lineWidth = 0.5 + 3 * w;
        ctx.beginPath(); ctx.moveTo(xl, top + rowH * (i + 0.5)); ctx.lineTo(xr, top + rowH * (j + 0.5)); ctx.stroke();
        drawn++;
      }
    });
    ctx.globalAlpha = 1;
    canvas.dataset.lines = String(drawn);
  }

  function drawModelView() {
    const grid = el('model-view');
    grid.innerHTML = '';
    const numHeads = A.layers[0].overviews.length - 1;
    grid.style.gridTemplateColumns = '120px repeat(' + numHeads + ', 84px)';
    grid.appendChild(document.createElement('div'));
    for (let h = 0; h < numHeads; h++) { const d = document.createElement('div'); d.textContent = 'head ' + h; d.className = 'muted'; grid.appendChild(d); }
    A.layers.forEach((layer, l) => {
      const name = document.createElement('div'); name.textContent = layer.name; name.className = 'muted'; grid.appendChild(name);
      for (let h = 0; h < numHeads; h++) {
        const c = document.createElement('canvas'); c.width = 80; c.height = 80; c.title = layer.name + ', head ' + h; c.className = 'thumb';
        drawCells(c.getContext('2d'), matrix(l, h), 0, layer.queryLength, 0, layer.keyLength, 80, 80);
        c.addEventListener('click', () => { state.layer = l; state.detailHead = h; state.zoom = null; el('layer').value = String(l); redraw(); });
        grid.appendChild(c);
      }
    });
  }

  function drawDetail() {
    const layer = A.layers[state.layer];
    const z = state.zoom || { r0: 0, r1: layer.queryLength, c0: 0, c1: layer.keyLength };
    const canvas = el('detail');
    const size = 480;
    canvas.width = size; canvas.height = size;
    drawCells(canvas.getContext('2d'), matrix(state.layer, state.detailHead), z.r0, z.r1, z.c0, z.c1, size, size);
    const what = state.detailHead < 0 ? 'mean over heads' : 'head ' + state.detailHead;
    el('detail-caption').textContent = layer.name + ', ' + what + ': query rows ' + z.r0 + '–' + (z.r1 - 1) + ' × keys ' + z.c0 + '–' + (z.c1 - 1) +
      (matrix(state.layer, state.detailHead).full ? '' : ' (overview resolution)') + '. Drag to zoom, double-click to reset.';
  }

  function setupZoom() {
    const canvas = el('detail');
    let start = null;
    canvas.addEventListener('mousedown', (e) => { start = [e.offsetX, e.offsetY]; });
    canvas.addEventListener('mouseup', (e) => {
      if (!start) return;
      const layer = A.layers[state.layer];
      const z = state.zoom || { r0: 0, r1: layer.queryLength, c0: 0, c1: layer.keyLength };
      const [x0, x1] = [Math.min(start[0], e.offsetX), Math.max(start[0], e.offsetX)];
      const [y0, y1] = [Math.min(start[1], e.offsetY), Math.max(start[1], e.offsetY)];
      start = null;
      if (x1 - x0 < 4 || y1 - y0 < 4) return;
      const W = canvas.width, H = canvas.height;
      const rs = (z.r1 - z.r0) / H, cs = (z.c1 - z.c0) / W;
      state.zoom = { r0: z.r0 + Math.floor(y0 * rs), r1: z.r0 + Math.max(Math.floor(y0 * rs) + 1, Math.ceil(y1 * rs)),
        c0: z.c0 + Math.floor(x0 * cs), c1: z.c0 + Math.max(Math.floor(x0 * cs) + 1, Math.ceil(x1 * cs)) };
      drawDetail();
    });
    canvas.addEventListener('dblclick', () => { state.zoom = null; drawDetail(); });
    canvas.addEventListener('mousemove', (e) => {
      const layer = A.layers[state.layer];
      const z = state.zoom || { r0: 0, r1: layer.queryLength, c0: 0, c1: layer.keyLength };
      const i = z.r0 + Math.floor((e.offsetY * (z.r1 - z.r0)) / canvas.height), j = z.c0 + Math.floor((e.offsetX * (z.c1 - z.c0)) / canvas.width);
      const src = matrix(state.layer, state.detailHead);
      const weight = src.full ? ((src.full[i * src.cols + j] / 255) * src.max).toFixed(3) : 'see zoom';
      el('detail-hover').textContent = 'query ' + i + ' "' + layer.queryLabels[i] + '" → key ' + j + ' "' + layer.keyLabels[j] + '": weight ' + weight;
    });
  }

  function drawImage() {
    if (!A.image) return;
    const { width, height, pixels, overlays } = A.image;
    const gray = decode(pixels);
    const canvas = el('image-view');
    const which = el('image-map').value;
    const o = overlays[which];
    const grid = decode(o.data);
    const s = 8; canvas.width = width * s; canvas.height = height * s;
    const ctx = canvas.getContext('2d');
    const img = ctx.createImageData(canvas.width, canvas.height);
    for (let y = 0; y < canvas.height; y++) for (let x = 0; x < canvas.width; x++) {
      const iy = Math.floor(y / s), ix = Math.floor(x / s);
      const g = gray[iy * width + ix];
      const my = Math.min(o.rows - 1, Math.floor((iy * o.rows) / height)), mx = Math.min(o.cols - 1, Math.floor((ix * o.cols) / width));
      const c = RAMP[grid[my * o.cols + mx]]; const p = (y * canvas.width + x) * 4;
      img.data[p] = 0.45 * g + 0.55 * c[0]; img.data[p + 1] = 0.45 * g + 0.55 * c[1]; img.data[p + 2] = 0.45 * g + 0.55 * c[2]; img.data[p + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  function buildControls() {
    const layerSelect = el('layer');
    A.layers.forEach((l, i) => { const o = document.createElement('option'); o.value = String(i); o.textContent = l.name + ' (' + l.kind + ')'; layerSelect.appendChild(o); });
    layerSelect.value = String(state.layer);
    layerSelect.addEventListener('change', () => { state.layer = Number(layerSelect.value); state.zoom = null; redraw(); });
    const heads = el('heads');
    state.heads.forEach((_, h) => {
      const label = document.createElement('label');
      const box = document.createElement('input'); box.type = 'checkbox'; box.checked = true; box.id = 'head-' + h;
      box.addEventListener('change', () => { state.heads[h] = box.checked; drawHeadView(); });
      label.appendChild(box); label.append(' head ' + h); label.style.color = HEAD_COLORS[h % HEAD_COLORS.length];
      heads.appendChild(label);
    });
    const detail = el('detail-head');
    const mean = document.createElement('option'); mean.value = '-1'; mean.textContent = 'mean over heads'; detail.appendChild(mean);
    state.heads.forEach((_, h) => { const o = document.createElement('option'); o.value = String(h); o.textContent = 'head ' + h; detail.appendChild(o); });
    detail.addEventListener('change', () => { state.detailHead = Number(detail.value); state.zoom = null; drawDetail(); });
    if (A.image) {
      const sel = el('image-map');
      Object.keys(A.image.overlays).forEach((name) => { const o = document.createElement('option'); o.value = name; o.textContent = name; sel.appendChild(o); });
      sel.addEventListener('change', drawImage);
    }
  }

  function redraw() { el('detail-head').value = String(state.detailHead); drawHeadView(); drawDetail(); drawImage(); }

  buildControls();
  drawModelView();
  setupZoom();
  redraw();
  document.body.dataset.ready = 'true';
})();
`;
