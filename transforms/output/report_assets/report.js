// filegraph report: the interactive graph view. Plain DOM and SVG, no library, no request.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var container = document.getElementById("graph");
  var details = document.getElementById("details");
  var controls = document.getElementById("graph-controls");
  var byId = {};
  data.nodes.forEach(function (n) { byId[n.id] = n; });

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }
  function html(tag, text, parent, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    if (parent) parent.appendChild(node);
    return node;
  }

  // ---- scene
  var svg = el("svg", {"aria-label": "relationship graph", "role": "img"}, container);
  var defs = el("defs", {}, svg);
  Object.keys(data.relationshipColours).forEach(function (type) {
    var marker = el("marker", {id: "arrow-" + type, viewBox: "0 0 10 10", refX: "16", refY: "5",
      markerWidth: "6", markerHeight: "6", orient: "auto-start-reverse"}, defs);
    el("path", {d: "M 0 0 L 10 5 L 0 10 z", fill: data.relationshipColours[type]}, marker);
  });
  var scene = el("g", {"class": "scene"}, svg);
  var edgeLayer = el("g", {"class": "edges"}, scene);
  var nodeLayer = el("g", {"class": "nodes"}, scene);
  var labelLayer = el("g", {"class": "labels"}, scene);

  var edgeViews = data.edges.map(function (e, i) {
    var a = byId[e.s], b = byId[e.t];
    var colour = data.relationshipColours[e.type] || "#999";
    var group = el("g", {"class": "edge-group", "data-type": e.type, "data-index": i}, edgeLayer);
    var hit = el("line", {"class": "edge-hit", x1: a.x, y1: a.y, x2: b.x, y2: b.y, "data-index": i}, group);
    var line = el("line", {"class": "edge", x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: colour,
      "stroke-width": 1 + 2 * e.confidence, "marker-end": "url(#arrow-" + e.type + ")"}, group);
    el("title", {}, hit).textContent = a.label + " " + e.type + " " + b.label + " (" + e.confidence + ")";
    hit.addEventListener("click", function (ev) { ev.stopPropagation(); showEdge(i); });
    return {edge: e, group: group, line: line};
  });
  var nodeViews = data.nodes.map(function (n) {
    var r = 5 + Math.min(10, Math.sqrt(n.degree) * 2);
    var circle = el("circle", {"class": "node" + (n.hub ? " hub" : ""), cx: n.x, cy: n.y, r: r,
      fill: data.fileColours[n.type] || "#999", "data-id": n.id, "data-type": n.type}, nodeLayer);
    el("title", {}, circle).textContent = n.path;
    var label = el("text", {"class": "node-label", x: n.x + r + 2, y: n.y + 3}, labelLayer);
    label.textContent = n.label;
    circle.addEventListener("click", function (ev) { ev.stopPropagation(); showNode(n.id); });
    return {node: n, circle: circle, label: label};
  });

  // ---- view box, pan and zoom
  var box = {x: 0, y: 0, w: 100, h: 100};
  function fit() {
    if (!data.nodes.length) { box = {x: -50, y: -50, w: 100, h: 100}; apply(); return; }
    var xs = data.nodes.map(function (n) { return n.x; }), ys = data.nodes.map(function (n) { return n.y; });
    var minX = Math.min.apply(null, xs) - 40, maxX = Math.max.apply(null, xs) + 120;
    var minY = Math.min.apply(null, ys) - 40, maxY = Math.max.apply(null, ys) + 40;
    box = {x: minX, y: minY, w: Math.max(maxX - minX, 100), h: Math.max(maxY - minY, 100)};
    apply();
  }
  function apply() {
    svg.setAttribute("viewBox", [box.x, box.y, box.w, box.h].join(" "));
    var rect = svg.getBoundingClientRect();
    var scale = rect.width ? box.w / rect.width : 1;
    labelLayer.style.display = scale > 1.6 ? "none" : "";
  }
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var rect = svg.getBoundingClientRect();
    var fx = (ev.clientX - rect.left) / rect.width, fy = (ev.clientY - rect.top) / rect.height;
    var factor = ev.deltaY > 0 ? 1.15 : 1 / 1.15;
    var w = box.w * factor, h = box.h * factor;
    box = {x: box.x + (box.w - w) * fx, y: box.y + (box.h - h) * fy, w: w, h: h};
    apply();
  }, {passive: false});
  var drag = null;
  svg.addEventListener("mousedown", function (ev) {
    drag = {x: ev.clientX, y: ev.clientY, box: {x: box.x, y: box.y, w: box.w, h: box.h}};
    svg.classList.add("dragging");
  });
  window.addEventListener("mousemove", function (ev) {
    if (!drag) return;
    var rect = svg.getBoundingClientRect();
    box.x = drag.box.x - (ev.clientX - drag.x) * box.w / rect.width;
    box.y = drag.box.y - (ev.clientY - drag.y) * box.h / rect.height;
    apply();
  });
  window.addEventListener("mouseup", function () { drag = null; svg.classList.remove("dragging"); });
  window.addEventListener("resize", apply);

  // ---- details panel
  function clearSelection() {
    edgeViews.forEach(function (v) { v.line.classList.remove("selected"); });
    nodeViews.forEach(function (v) { v.circle.classList.remove("selected"); });
  }
  function row(dl, name, value) {
    if (value === undefined || value === null || value === "") return;
    html("dt", name, dl);
    html("dd", value, dl);
  }
  function showEdge(i) {
    var e = data.edges[i], a = byId[e.s], b = byId[e.t];
    clearSelection();
    edgeViews[i].line.classList.add("selected");
    details.textContent = "";
    details.setAttribute("data-edge", i);
    html("h3", e.type, details);
    html("p", e.description, details, "description");
    var dl = html("dl", null, details);
    row(dl, "source", a.path);
    row(dl, "target", b.path);
    row(dl, "confidence", e.confidence);
    row(dl, "evidence", e.evidence.join(", "));
    html("h4", "Evidence details", details);
    html("pre", e.details, details, "evidence-details");
  }
  function showNode(id) {
    var n = byId[id];
    clearSelection();
    nodeViews.forEach(function (v) { if (v.node.id === id) v.circle.classList.add("selected"); });
    details.textContent = "";
    details.removeAttribute("data-edge");
    html("h3", n.label, details);
    var dl = html("dl", null, details);
    row(dl, "path", n.path);
    row(dl, "type", n.type);
    row(dl, "size (bytes)", n.size);
    row(dl, "title", n.title);
    row(dl, "author", n.author);
    row(dl, "modified", n.modified);
    row(dl, "workflow", n.component);
    row(dl, "relationships", n.degree);
    var list = html("ul", null, details);
    data.edges.forEach(function (e, i) {
      if (e.s !== id && e.t !== id) return;
      var other = byId[e.s === id ? e.t : e.s];
      var item = html("li", null, list);
      var link = html("a", (e.s === id ? "→ " : "← ") + e.type + " " + other.label + " (" + e.confidence + ")", item);
      link.addEventListener("click", function () { showEdge(i); });
    });
  }
  svg.addEventListener("click", function () { clearSelection(); });

  // ---- controls: legend, type filters, confidence, search
  var shownTypes = {};
  var minConfidence = 0;
  function refresh() {
    edgeViews.forEach(function (v) {
      var visible = shownTypes[v.edge.type] !== false && v.edge.confidence >= minConfidence;
      v.group.classList.toggle("hidden", !visible);
    });
  }
  var presentTypes = {};
  data.edges.forEach(function (e) { presentTypes[e.type] = (presentTypes[e.type] || 0) + 1; });
  Object.keys(data.relationshipColours).forEach(function (type) {
    if (!presentTypes[type]) return;
    var label = html("label", null, controls);
    var box = html("input", null, label);
    box.type = "checkbox"; box.checked = true; box.setAttribute("data-filter", type);
    box.addEventListener("change", function () { shownTypes[type] = box.checked; refresh(); });
    var swatch = html("span", null, label, "line-swatch");
    swatch.style.background = data.relationshipColours[type];
    label.appendChild(document.createTextNode(type + " (" + presentTypes[type] + ")"));
  });
  var confLabel = html("label", "min confidence ", controls);
  var slider = html("input", null, confLabel);
  slider.type = "range"; slider.min = "0"; slider.max = "1"; slider.step = "0.05"; slider.value = "0";
  var confValue = html("span", "0", confLabel);
  slider.addEventListener("input", function () {
    minConfidence = parseFloat(slider.value); confValue.textContent = slider.value; refresh();
  });
  var search = html("input", null, controls);
  search.type = "search"; search.placeholder = "find a file";
  search.addEventListener("input", function () {
    var q = search.value.toLowerCase();
    nodeViews.forEach(function (v) {
      v.circle.classList.toggle("match", q.length > 0 && v.node.path.toLowerCase().indexOf(q) >= 0);
    });
  });
  var fitButton = html("button", "fit", controls);
  fitButton.type = "button";
  fitButton.addEventListener("click", fit);
  var legend = html("span", null, controls);
  Object.keys(data.fileColours).forEach(function (type) {
    var item = html("span", null, legend);
    item.style.marginRight = "10px";
    html("span", null, item, "swatch").style.background = data.fileColours[type];
    item.appendChild(document.createTextNode(type));
  });

  fit();
  container.setAttribute("data-ready", "true");
})();
