"use strict";
// Filters, one-source-against-the-rest, and click-to-highlight evidence. State lives in the URL hash
// (#filter=contradictions&source=ID&claim=ID) so a view can be linked, printed or tested as it is.
(function () {
  var SYMBOLS = { supported: "✓", partial: "≈", absent: "∅", contradicted: "✗" };
  var state = { filter: "all", source: "", claim: "" };
  var events = Array.prototype.slice.call(document.querySelectorAll("section.event[data-event]")).map(function (section) {
    var node = section.querySelector("script.event-data");
    return { section: section, data: node ? JSON.parse(node.textContent) : null };
  }).filter(function (e) { return e.data; });

  function statusesOf(claim, source) {
    // The judgements that count for a claim: against the chosen source, or against every other source.
    var entries = Object.keys(claim.statuses).map(function (other) { return [other, claim.statuses[other]]; });
    if (source && claim.doc !== source) return entries.filter(function (e) { return e[0] === source; });
    return entries;
  }

  function overall(claim, source) {
    var s = statusesOf(claim, source).map(function (e) { return e[1].s; });
    if (!s.length) return "none";
    if (s.indexOf("contradicted") >= 0) return "contradicted";
    if (s.every(function (x) { return x === "absent"; })) return "absent";
    if (s.every(function (x) { return x === "supported"; })) return "supported";
    return "partial";
  }

  function claimShown(claim, source) {
    var s = statusesOf(claim, source).map(function (e) { return e[1].s; });
    if (state.filter === "contradictions") return s.indexOf("contradicted") >= 0;
    if (state.filter === "omissions") return s.indexOf("absent") >= 0;
    if (source) return s.some(function (x) { return x !== "supported"; });
    return true;
  }

  function rowShown(cells, source) {
    var names = Object.keys(cells);
    if (source && names.indexOf(source) < 0) return false;
    var values = names.map(function (n) { return cells[n]; });
    var others = names.filter(function (n) { return n !== source; }).map(function (n) { return cells[n]; });
    var saying = function (v) { return v === "says" || v === "contradicts"; };
    if (state.filter === "contradictions") return source ? cells[source] === "contradicts" : values.indexOf("contradicts") >= 0;
    if (state.filter === "omissions") {
      if (!source) return values.indexOf("omits") >= 0 && values.some(saying);
      return (cells[source] === "omits" && others.some(saying)) || (saying(cells[source]) && others.indexOf("omits") >= 0);
    }
    if (source) return others.some(function (v) { return v !== cells[source]; });
    return true;
  }

  function apply() {
    events.forEach(function (e) {
      var present = Object.keys(e.data.sources).indexOf(state.source) >= 0 || !state.source;
      var source = present ? state.source : "";
      var shown = 0, total = 0;
      e.section.querySelectorAll("table.matrix tr[data-group]").forEach(function (row) {
        var visible = present && rowShown(JSON.parse(row.getAttribute("data-cells")), source);
        row.hidden = !visible; total += 1; if (visible) shown += 1;
      });
      var counter = e.section.querySelector(".shown");
      if (counter) counter.textContent = shown + " of " + total + " claim groups";
      if (counter) counter.setAttribute("data-shown", String(shown));
      e.section.querySelectorAll("ol.divergences li").forEach(function (item) {
        item.hidden = !(present && rowShown(JSON.parse(item.getAttribute("data-cells")), source)) ||
          (state.filter === "contradictions" && item.getAttribute("data-kind") !== "contradiction") ||
          (state.filter === "omissions" && item.getAttribute("data-kind") === "contradiction");
      });
      e.section.querySelectorAll(".claim[data-claim]").forEach(function (mark) {
        var claim = e.data.claims[mark.getAttribute("data-claim")];
        if (!claim) return;
        mark.className = "claim st-" + overall(claim, source);
        if (!present || !claimShown(claim, source)) mark.classList.add("dim");
        var lines = statusesOf(claim, source).map(function (x) {
          return SYMBOLS[x[1].s] + " " + x[1].s + " in " + e.data.sources[x[0]] + (x[1].s === "supported" ? "" : ": " + x[1].r);
        });
        mark.title = lines.join("\n");
      });
    });
    if (state.claim) select(state.claim, false);
  }

  function select(claimId, scroll) {
    events.forEach(function (e) {
      var claim = e.data.claims[claimId];
      if (!claim) return;
      e.section.querySelectorAll(".claim.selected, .claim.ev").forEach(function (m) { m.classList.remove("selected", "ev"); });
      e.section.querySelectorAll(".column").forEach(function (column) {
        var doc = column.getAttribute("data-source");
        var note = column.querySelector(".note");
        if (doc === claim.doc) {
          note.textContent = "Selected: " + claim.text;
          note.className = "note selected-note";
          return;
        }
        var j = claim.statuses[doc];
        if (!j) { note.textContent = ""; return; }
        note.textContent = SYMBOLS[j.s] + " " + j.s + " — " + j.r;
        note.className = "note st-" + j.s;
        note.setAttribute("data-status", j.s);
        (j.ev || []).forEach(function (id) {
          column.querySelectorAll(".claim").forEach(function (m) {
            if (m.getAttribute("data-claim") === id) {
              m.classList.add("ev");
              if (scroll) m.scrollIntoView({ block: "nearest" });
            }
          });
        });
      });
      e.section.querySelectorAll(".claim").forEach(function (m) {
        if (m.getAttribute("data-claim") === claimId) {
          m.classList.add("selected");
          if (scroll) m.scrollIntoView({ block: "nearest" });
        }
      });
    });
  }

  function readHash() {
    var params = new URLSearchParams(location.hash.slice(1));
    state.filter = ["contradictions", "omissions"].indexOf(params.get("filter")) >= 0 ? params.get("filter") : "all";
    state.source = params.get("source") || "";
    state.claim = params.get("claim") || "";
    document.querySelectorAll("input[name=filter]").forEach(function (r) { r.checked = r.value === state.filter; });
    var chooser = document.getElementById("source-filter");
    if (chooser) chooser.value = state.source;
  }

  function writeHash() {
    var params = new URLSearchParams();
    if (state.filter !== "all") params.set("filter", state.filter);
    if (state.source) params.set("source", state.source);
    if (state.claim) params.set("claim", state.claim);
    history.replaceState(null, "", "#" + params.toString());
  }

  document.querySelectorAll("input[name=filter]").forEach(function (radio) {
    radio.addEventListener("change", function () { state.filter = radio.value; writeHash(); apply(); });
  });
  var chooser = document.getElementById("source-filter");
  if (chooser) chooser.addEventListener("change", function () { state.source = chooser.value; writeHash(); apply(); });
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var mark = target && target.closest(".claim[data-claim]");
    var label = target && target.closest("table.matrix td.label");
    if (label) {
      var ids = JSON.parse(label.parentElement.getAttribute("data-claims"));
      mark = ids.length ? document.querySelector(".claim[data-claim='" + CSS.escape(ids[0]) + "']") : null;
    }
    if (!mark) return;
    state.claim = mark.getAttribute("data-claim");
    writeHash();
    select(state.claim, true);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target instanceof Element && event.target.matches(".claim[data-claim]")) event.target.click();
  });
  window.addEventListener("hashchange", function () { readHash(); apply(); });
  readHash();
  apply();
  if (state.claim) select(state.claim, true);
  document.documentElement.setAttribute("data-ready", "1");
})();
