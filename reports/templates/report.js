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
  var cards = Array.prototype.slice.call(document.querySelectorAll("[data-check]"));

  function contains(element, query) {
    return !query || element.textContent.toLowerCase().indexOf(query) !== -1;
  }

  function apply() {
    var query = search.value.trim().toLowerCase();
    var shownChecks = 0;
    var shownFindings = 0;
    cards.forEach(function (card) {
      var fits = (!pillar.value || card.dataset.pillar === pillar.value) &&
        (!status.value || card.dataset.status === status.value);
      var header = card.querySelector("header");
      var rows = Array.prototype.slice.call(card.querySelectorAll("[data-finding]"));
      var visibleRows = 0;
      rows.forEach(function (row) {
        var show = fits && (!severity.value || row.dataset.severity === severity.value) &&
          (contains(row, query) || contains(header, query));
        row.hidden = !show;
        if (show) {
          visibleRows += 1;
        }
      });
      var show = rows.length ? visibleRows > 0 :
        fits && (!severity.value || card.dataset.severity === severity.value) && contains(card, query);
      card.hidden = !show;
      if (show) {
        shownChecks += 1;
        shownFindings += visibleRows;
      }
    });
    document.querySelectorAll("[data-pillar-group]").forEach(function (group) {
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
  [pillar, severity, status, search].forEach(function (control) {
    control.addEventListener("input", apply);
    control.addEventListener("change", apply);
  });
  apply();
}());
