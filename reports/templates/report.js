// Filters and search for the zt-audit report. Runs offline; reads only the page itself.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) {
    return;
  }
  var pillar = document.getElementById("filter-pillar");
  var severity = document.getElementById("filter-severity");
  var status = document.getElementById("filter-status");
  var search = document.getElementById("filter-search");
  var count = document.getElementById("filter-count");
  var state = document.getElementById("filter-state");
  var groups = Array.prototype.slice.call(document.querySelectorAll("[data-pillar-group]"));

  // Text is read once: a report can hold thousands of findings, and filtering must stay fast.
  var cards = Array.prototype.map.call(document.querySelectorAll("[data-check]"), function (card) {
    return {
      element: card,
      pillar: card.dataset.pillar,
      status: card.dataset.status,
      severity: card.dataset.severity,
      header: card.querySelector("header").textContent.toLowerCase(),
      text: card.textContent.toLowerCase(),
      rows: Array.prototype.map.call(card.querySelectorAll("[data-finding]"), function (row) {
        return {
          element: row,
          severity: row.dataset.severity,
          text: row.textContent.toLowerCase()
        };
      })
    };
  });

  function apply() {
    var query = search.value.trim().toLowerCase();
    var shownChecks = 0;
    var shownFindings = 0;
    cards.forEach(function (card) {
      var fits = (!pillar.value || card.pillar === pillar.value) &&
        (!status.value || card.status === status.value);
      var headerMatches = !query || card.header.indexOf(query) !== -1;
      var visibleRows = 0;
      card.rows.forEach(function (row) {
        var show = fits && (!severity.value || row.severity === severity.value) &&
          (headerMatches || row.text.indexOf(query) !== -1);
        row.element.hidden = !show;
        visibleRows += show ? 1 : 0;
      });
      var show = card.rows.length ? visibleRows > 0 :
        fits && (!severity.value || card.severity === severity.value) &&
        (!query || card.text.indexOf(query) !== -1);
      card.element.hidden = !show;
      if (show) {
        shownChecks += 1;
        shownFindings += visibleRows;
      }
    });
    groups.forEach(function (group) {
      group.hidden = !group.querySelector("[data-check]:not([hidden])");
    });
    count.textContent = shownChecks + " of " + count.dataset.totalChecks + " checks, " +
      shownFindings + " of " + count.dataset.totalFindings + " findings shown";
    var active = [pillar, severity, status].filter(function (select) { return select.value; })
      .map(function (select) { return select.dataset.filter + " = " + select.value; });
    if (query) {
      active.push("search = \"" + query + "\"");
    }
    state.textContent = active.length ? "Filtered view: " + active.join(", ") : "";
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); });
  [pillar, severity, status].forEach(function (select) {
    select.addEventListener("change", apply);
  });
  search.addEventListener("input", apply);
  apply();
}());
