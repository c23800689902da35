// avu explore: list, sort, filter and open the samples of each benchmark; plain JS, no network.
// Data pages are scripts that call AVU.put(key, payload): browsers refuse fetch() of file:// URLs.
"use strict";
(function () {
  const SITE = window.AVU_SITE;
  const DATA = "explore/data/";
  const PAGE = 50;
  const store = {};
  const waiting = {};

  window.AVU = {
    put(key, payload) {
      store[key] = payload;
      (waiting[key] || []).forEach((resolve) => resolve(payload));
      delete waiting[key];
    },
  };

  function load(key, src) {
    if (store[key]) return Promise.resolve(store[key]);
    return new Promise((resolve, reject) => {
      (waiting[key] = waiting[key] || []).push(resolve);
      if (document.querySelector(`script[data-key="${key}"]`)) return;
      const s = document.createElement("script");
      s.src = src;
      s.dataset.key = key;
      s.onerror = () => reject(new Error(`cannot load ${src}`));
      document.head.appendChild(s);
    });
  }
  const loadIndex = (b) => load(`index/${b}`, `${DATA}${b}/index.js`);
  const loadChunk = (b, k) => load(`detail/${b}/${k}`, `${DATA}${b}/d${k}.js`);

  // ---------------------------------------------------------------- helpers
  function esc(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function fmt(v, digits) {
    return v === null || v === undefined ? "—" : Number(v).toFixed(digits);
  }
  function num(v, digits, key) {
    if (v === null || v === undefined) return `<span class="na" data-key="${esc(key)}">—</span>`;
    return `<span class="num" data-key="${esc(key)}" data-value="${v}">${fmt(v, digits)}</span>`;
  }
  function okMark(ok) {
    if (ok === null || ok === undefined) return '<span class="na">—</span>';
    return ok ? '<span class="ok" data-ok="1">hit</span>' : '<span class="miss" data-ok="0">miss</span>';
  }
  function unit(meta) {
    return meta.metric.unit ? ` (${meta.metric.unit})` : "";
  }
  function classColour(name) {
    let h = 0;
    for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) % 360;
    return `hsl(${h}, 55%, 78%)`;
  }
  const app = document.getElementById("app");
  const overview = document.getElementById("overview");

  function parseHash() {
    const raw = decodeURIComponent(location.hash.replace(/^#/, ""));
    const [path, query] = raw.split("?");
    const parts = (path || "").split("/").filter(Boolean);
    return { parts, query: new URLSearchParams(query || "") };
  }
  function listQuery(q) {
    const keep = new URLSearchParams();
    for (const k of ["sort", "dir", "c", "t", "ok", "page"]) if (q.get(k)) keep.set(k, q.get(k));
    return keep.toString();
  }

  // ---------------------------------------------------------------- list
  function sortKey(row, sort) {
    if (sort === "id") return row.id;
    if (sort === "i") return row.i;
    if (sort === "d") return row.m[0] === null || row.m[1] === null || row.m[1] === undefined ? null : row.m[1] - row.m[0];
    const r = Number(sort.slice(1));
    return row.m[r] === undefined ? null : row.m[r];
  }
  function selected(meta, q) {
    const sort = q.get("sort") || "m0";
    const dir = q.get("dir") || "asc";
    const c = q.get("c");
    const t = q.get("t");
    const ok = q.get("ok");
    let rows = meta.rows.filter((row) => (!c || row.c.includes(c)) && (!t || row.t === t));
    if (ok) {
      const want = ok.match(/[hm]\d/g) || [];
      rows = rows.filter((row) => want.every((w) => row.ok[Number(w[1])] === (w[0] === "h")));
    }
    const sign = dir === "desc" ? -1 : 1;
    rows = rows.slice().sort((a, b) => {
      const x = sortKey(a, sort);
      const y = sortKey(b, sort);
      if (x === null && y === null) return a.i - b.i;
      if (x === null) return 1; // no value: always last
      if (y === null) return -1;
      if (x < y) return -sign;
      if (x > y) return sign;
      return a.i - b.i;
    });
    return rows;
  }
  function options(values, current, allLabel) {
    return [`<option value="">${allLabel}</option>`]
      .concat(values.map((v) => `<option value="${esc(v)}"${v === current ? " selected" : ""}>${esc(v)}</option>`))
      .join("");
  }
  function renderList(b, meta, q) {
    const runs = meta.runs;
    const rows = selected(meta, q);
    const page = Math.max(0, Math.min(Number(q.get("page") || 0), Math.max(0, Math.ceil(rows.length / PAGE) - 1)));
    const shown = rows.slice(page * PAGE, (page + 1) * PAGE);
    const classes = [...new Set(meta.rows.flatMap((r) => r.c))].sort();
    const types = [...new Set(meta.rows.map((r) => r.t).filter((t) => t))].sort();
    const sorts = runs.map((r, k) => [`m${k}`, `${meta.metric.label}: ${r.label}`]);
    if (runs.length === 2) sorts.push(["d", `${runs[1].label} − ${runs[0].label}`]);
    sorts.push(["id", "sample id"], ["i", "split order"]);
    const oks = [["", "all"]];
    runs.forEach((r, k) => oks.push([`h${k}`, `hit: ${r.label}`], [`m${k}`, `miss: ${r.label}`]));
    if (runs.length === 2) oks.push(["h0m1", `hit ${runs[0].label}, miss ${runs[1].label}`], ["m0h1", `miss ${runs[0].label}, hit ${runs[1].label}`]);
    const cur = (k, d) => q.get(k) || d;
    const qs = listQuery(q);
    let html = `<h1>${esc(meta.title)}</h1>
      <p class="caption">${meta.count} samples. Per-sample metric: <b>${esc(meta.metric.label)}</b>${unit(meta)};
      hit: ${esc(meta.metric.hit)}. ${runs.map((r) => `${esc(r.label)}: protocol ${esc(r.protocol)}, annotations ${esc(r.annotation_version)}`).join("; ")}.</p>
      <div class="controls">
        <label>sort <select id="sort">${sorts.map(([v, l]) => `<option value="${v}"${v === cur("sort", "m0") ? " selected" : ""}>${esc(l)}</option>`).join("")}</select></label>
        <label>order <select id="dir"><option value="asc"${cur("dir", "asc") === "asc" ? " selected" : ""}>ascending (worst first)</option><option value="desc"${cur("dir", "asc") === "desc" ? " selected" : ""}>descending</option></select></label>
        ${classes.length ? `<label>class <select id="c">${options(classes, q.get("c"), "all classes")}</select></label>` : ""}
        ${types.length ? `<label>type <select id="t">${options(types, q.get("t"), "all types")}</select></label>` : ""}
        <label>correct <select id="ok">${oks.map(([v, l]) => `<option value="${v}"${v === (q.get("ok") || "") ? " selected" : ""}>${esc(l)}</option>`).join("")}</select></label>
      </div>
      <p class="count" id="count">${rows.length ? `${page * PAGE + 1}–${page * PAGE + shown.length} of ${rows.length}` : "no sample matches"}${rows.length !== meta.count ? ` (filtered from ${meta.count})` : ""}</p>
      <table class="samples" id="samples"><thead><tr><th></th><th>sample</th><th>class</th>${types.length ? "<th>type</th>" : ""}
      ${runs.map((r) => `<th>${esc(meta.metric.label)}${unit(meta)}<br><span class="small">${esc(r.label)}</span></th>`).join("")}
      ${runs.length === 2 ? "<th>difference</th>" : ""}${runs.map((r) => `<th>${esc(r.label)}</th>`).join("")}</tr></thead><tbody>`;
    for (const row of shown) {
      const link = `#/b/${b}/s/${row.i}${qs ? "?" + qs : ""}`;
      html += `<tr data-i="${row.i}" data-id="${esc(row.id)}"><td><a href="${link}"><img class="thumb" loading="lazy" width="96" height="96" src="${esc(row.thumb)}" alt=""></a></td>
        <td><a class="open" href="${link}">${esc(row.id)}</a></td><td>${esc(row.c.join(", "))}</td>${types.length ? `<td>${esc(row.t || "")}</td>` : ""}
        ${row.m.map((v, k) => `<td class="num metric">${num(v, meta.metric.digits, `row/${row.i}/m${k}`)}</td>`).join("")}
        ${runs.length === 2 ? `<td class="num">${num(sortKey(row, "d"), meta.metric.digits, `row/${row.i}/d`)}</td>` : ""}
        ${row.ok.map((ok) => `<td>${okMark(ok)}</td>`).join("")}</tr>`;
    }
    html += `</tbody></table>
      <div class="pager"><button id="prev"${page === 0 ? " disabled" : ""}>previous</button>
      <span>page ${rows.length ? page + 1 : 0} of ${Math.ceil(rows.length / PAGE)}</span>
      <button id="next"${(page + 1) * PAGE >= rows.length ? " disabled" : ""}>next</button></div>`;
    app.innerHTML = html;
    const go = (changes) => {
      const next = new URLSearchParams(listQuery(q));
      for (const [k, v] of Object.entries(changes)) v === "" || v === null ? next.delete(k) : next.set(k, v);
      location.hash = `#/b/${b}?${next.toString()}`;
    };
    for (const id of ["sort", "dir", "c", "t", "ok"]) {
      const el = document.getElementById(id);
      if (el) el.addEventListener("change", () => go({ [id]: el.value, page: "" }));
    }
    document.getElementById("prev").addEventListener("click", () => go({ page: String(page - 1) }));
    document.getElementById("next").addEventListener("click", () => go({ page: String(page + 1) }));
  }

  // ---------------------------------------------------------------- detail views
  function legendOutlines(extra) {
    return `<div class="legend"><span><span class="swatch line" style="border-top-color: var(--gt)"></span>ground truth (outline)</span>
      <span><span class="swatch line" style="border-top-color: var(--pred)"></span>prediction (outline)</span>${extra || ""}</div>`;
  }
  function segmentationView(meta, d, i) {
    const semantic = meta.benchmark === "avss";
    const frames = d.img.frames;
    let legend;
    if (semantic) {
      const names = [...new Set(d.truth.classes.concat(...d.runs.filter((r) => r).map((r) => r.predicted_classes)))];
      legend = `<div class="legend" id="class-legend">${names.map((n) => `<span data-class="${esc(n)}"><span class="swatch" style="background:${meta.palette[n]}; border-color:${meta.palette[n]}"></span>${esc(n)}</span>`).join("")}
        <span class="small">each class outlined, dashed in its AVSS palette colour and white over a dark halo; background unmarked</span></div>`;
    } else {
      legend = legendOutlines();
    }
    let html = legend + `<table class="frames"><tr><th></th>${frames.map((_, t) => `<th>frame ${t}</th>`).join("")}</tr>`;
    if (semantic) html += `<tr><th>ground truth</th>${frames.map((f) => `<td><img src="${esc(f.gt)}" alt="ground truth"></td>`).join("")}</tr>`;
    meta.runs.forEach((run, r) => {
      const det = d.runs[r];
      html += `<tr><th>${esc(run.label)}${semantic ? "" : "<br><span class='small'>GT and prediction</span>"}</th>`;
      frames.forEach((f, t) => {
        if (!det) { html += "<td class='na'>no prediction</td>"; return; }
        const v = semantic ? det.frame_miou[t] : det.iou[t];
        html += `<td><img src="${esc(f.runs[r])}" alt="prediction"><div>${semantic ? "frame mIoU" : "IoU"} ${num(v, 2, `frame/${r}/${t}`)} %</div></td>`;
      });
      html += "</tr>";
    });
    return html + "</table>";
  }
  function localisationView(meta, d, i) {
    let html = `<div class="legend"><span><span class="colourbar"></span> heatmap, normalised as the protocol does (low → high)</span>
      <span><span class="swatch line" style="border-top-color: var(--gt)"></span>ground truth (box / GT map)</span>
      <span><span class="swatch line" style="border-top-color: var(--pred)"></span>protocol mask: the pixels at or above the threshold</span></div>`;
    html += `<p>ground-truth boxes (pixels at ${224}×${224}): ${esc(JSON.stringify(d.truth.boxes))}</p><table class="frames"><tr><th></th><th>heatmap and GT box</th><th>mask and GT map</th><th>numbers</th></tr>`;
    meta.runs.forEach((run, r) => {
      const det = d.runs[r];
      if (!det) { html += `<tr><th>${esc(run.label)}</th><td colspan="3" class="na">no prediction</td></tr>`; return; }
      html += `<tr><th>${esc(run.label)}</th><td><img src="${esc(d.img.runs[r].heat)}" alt="heatmap"></td><td><img src="${esc(d.img.runs[r].mask)}" alt="mask"></td>
        <td class="facts-cell"><div class="facts"><span>cIoU</span>${num(det.ciou, 3, `ciou/${r}`)}
        <span>threshold</span>${num(det.threshold, 4, `threshold/${r}`)}<span>mask pixels</span><span>${det.selected}</span>
        <span>intersection / denominator</span><span>${det.intersection} / ${det.denominator}</span>
        <span>success (cIoU ≥ 0.5)</span>${okMark(det.ok)}</div></td></tr>`;
    });
    return html + "</table>";
  }
  function segRow(label, cells) {
    return `<tr><th>${label}</th>${cells.join("")}</tr>`;
  }
  function aveView(meta, d) {
    const names = meta.classes;
    const gt = d.truth.labels;
    let html = `<img class="strip" src="${esc(d.img.strip)}" alt="frames"><table class="timeline"><tr><th>segment</th>${gt.map((_, t) => `<th>${t}–${t + 1} s</th>`).join("")}<th>accuracy (%)</th></tr>`;
    html += segRow("ground truth", gt.map((c) => `<td class="seg" style="background:${classColour(names[c])}" title="${esc(names[c])}">${esc(names[c])}</td>`).concat(["<td></td>"]));
    meta.runs.forEach((run, r) => {
      const det = d.runs[r];
      if (!det) { html += segRow(esc(run.label), ["<td colspan='11' class='na'>no prediction</td>"]); return; }
      html += segRow(esc(run.label), det.labels.map((c, t) => `<td class="seg ${c === gt[t] ? "right" : "wrong"}" style="background:${classColour(names[c])}" title="${esc(names[c])}">${esc(names[c])}</td>`)
        .concat([`<td>${num(det.metric, 2, `video/${r}`)}</td>`]));
    });
    return html + "</table><p class='small'>Cell colour: the class; green / red frame: the segment is right / wrong.</p>";
  }
  function llpView(meta, d) {
    let html = `<img class="strip" src="${esc(d.img.strip)}" alt="frames">`;
    for (const modality of ["audio", "visual"]) {
      const classes = new Set(Object.keys(d.truth.tracks[modality]));
      d.runs.forEach((det) => det && Object.keys(det.tracks[modality]).forEach((c) => classes.add(c)));
      html += `<h3>${modality}</h3>`;
      if (!classes.size) { html += "<p class='na'>no event in the ground truth or the predictions</p>"; continue; }
      html += `<table class="timeline"><tr><th></th>${[...Array(10).keys()].map((t) => `<th>${t}–${t + 1} s</th>`).join("")}</tr>`;
      for (const c of [...classes].sort()) {
        const gt = d.truth.tracks[modality][c] || "0000000000";
        html += segRow(`${esc(c)}: ground truth`, [...gt].map((bit) => `<td class="seg${bit === "1" ? " on" : ""}">${bit === "1" ? "●" : ""}</td>`));
        meta.runs.forEach((run, r) => {
          const det = d.runs[r];
          if (!det) return;
          const p = det.tracks[modality][c] || "0000000000";
          html += segRow(`${esc(c)}: ${esc(run.label)}`, [...p].map((bit, t) => `<td class="seg${bit === "1" ? " on" : ""} ${bit === gt[t] ? "right" : "wrong"}">${bit === "1" ? "●" : ""}</td>`));
        });
      }
      html += "</table>";
    }
    const cols = Object.keys((d.runs.find((r) => r) || {}).scores || {});
    html += `<h3>per-video F (%)</h3><table><tr><th></th>${cols.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>`;
    meta.runs.forEach((run, r) => {
      const det = d.runs[r];
      if (det) html += `<tr><th>${esc(run.label)}</th>${cols.map((c) => `<td>${num(det.scores[c], 2, `f/${r}/${c}`)}</td>`).join("")}</tr>`;
    });
    return html + "</table>";
  }
  function qaView(meta, d) {
    let html = `<img class="strip" src="${esc(d.img.strip)}" alt="frames"><dl class="qa">
      <dt>question</dt><dd id="question">${esc(d.truth.question)}</dd><dt>type</dt><dd>${esc(d.truth.type)}</dd>
      <dt>answer (ground truth)</dt><dd id="answer">${esc(d.truth.answer)}</dd>`;
    meta.runs.forEach((run, r) => {
      const det = d.runs[r];
      html += `<dt>predicted: ${esc(run.label)}</dt><dd>${det ? `<span class="predicted" data-run="${r}">${esc(det.answer)}</span> ${okMark(det.ok)}` : "<span class='na'>no prediction</span>"}</dd>`;
    });
    return html + "</dl>";
  }
  const VIEWS = { avs_s4: segmentationView, avs_ms3: segmentationView, avss: segmentationView, vggss: localisationView,
    ave: aveView, llp: llpView, avqa: qaView };

  function renderDetail(b, meta, i, q) {
    const k = Math.floor(i / meta.chunk);
    return loadChunk(b, k).then((chunk) => {
      const d = chunk[String(i)];
      const row = meta.rows[i];
      if (!d || !row) { app.innerHTML = `<p class="error">no sample ${i} in ${esc(b)}</p>`; return; }
      const order = selected(meta, q).map((r) => r.i);
      const pos = order.indexOf(i);
      const qs = listQuery(q);
      const link = (j) => `#/b/${b}/s/${j}${qs ? "?" + qs : ""}`;
      const nav = `<p class="pager"><a href="#/b/${b}${qs ? "?" + qs : ""}">← list</a>
        ${pos > 0 ? `<a id="prev-sample" href="${link(order[pos - 1])}">previous</a>` : ""}
        ${pos >= 0 && pos < order.length - 1 ? `<a id="next-sample" href="${link(order[pos + 1])}">next</a>` : ""}
        ${pos >= 0 ? `<span class="small">${pos + 1} of ${order.length} in this order</span>` : ""}</p>`;
      const head = `<h1 id="sample-id">${esc(row.id)}</h1><p class="caption">${esc(meta.title)}; ${row.c.length ? `class: ${esc(row.c.join(", "))}; ` : ""}${row.t ? `type: ${esc(row.t)}; ` : ""}
        ${meta.runs.map((run, r) => `${esc(meta.metric.label)}${unit(meta)} <b>${esc(run.label)}</b>: ${num(row.m[r], meta.metric.digits, `sample/${r}`)} ${okMark(row.ok[r])} (protocol ${esc(run.protocol)}, annotations ${esc(run.annotation_version)})`).join("; ")}</p>`;
      app.innerHTML = nav + head + `<div id="view" data-kind="${b}">${VIEWS[b](meta, d, i)}</div>`;
    });
  }

  // ---------------------------------------------------------------- router
  function route() {
    const { parts, query } = parseHash();
    document.querySelectorAll("header nav a").forEach((a) => a.classList.toggle("active", a.dataset.nav === parts[1]));
    if (parts[0] !== "b" || !SITE.benchmarks[parts[1]]) {
      overview.hidden = false;
      app.hidden = true;
      document.body.dataset.ready = location.hash || "#/";
      return;
    }
    overview.hidden = true;
    app.hidden = false;
    const b = parts[1];
    app.innerHTML = "<p>loading…</p>";
    loadIndex(b)
      .then((meta) => (parts[2] === "s" ? renderDetail(b, meta, Number(parts[3]), query) : renderList(b, meta, query)))
      .then(() => { document.body.dataset.ready = location.hash; })
      .catch((err) => { app.innerHTML = `<p class="error">${esc(err.message)}</p>`; throw err; });
  }
  window.addEventListener("hashchange", route);
  route();
})();
