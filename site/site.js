/* The site's index: filter the documents and the lists of pages as you type, sort the documents by
   any column. Plain JavaScript in the site itself: no network, works from file://. Without it the
   page shows everything, unsorted. */
(function () {
  "use strict";

  function lower(s) { return s.toLocaleLowerCase(); }

  // A filter box shows the rows (or list items) containing every word typed, in any column.
  Array.prototype.forEach.call(document.querySelectorAll("input[data-filter]"), function (input) {
    var target = document.getElementById(input.getAttribute("data-filter"));
    if (!target) { return; }
    var rows = target.tBodies ? Array.prototype.slice.call(target.tBodies[0].rows)
                              : Array.prototype.slice.call(target.children);
    var texts = rows.map(function (row) { return lower(row.textContent); });
    var count = document.getElementById(input.getAttribute("data-filter") + "-count");
    var noun = count ? count.textContent.replace(/^[0-9]+ /, "") : "";
    input.hidden = false;
    function apply() {
      var words = lower(input.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row, i) {
        var keep = words.every(function (w) { return texts[i].indexOf(w) !== -1; });
        row.hidden = !keep;
        if (keep) { shown += 1; }
      });
      if (count) { count.textContent = (shown === rows.length ? "" : shown + " of ") + rows.length + " " + noun; }
    }
    input.addEventListener("input", apply);
    apply();
  });

  // A sortable table: each heading becomes a button; a second click reverses the order.
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var body = table.tBodies[0];
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    heads.forEach(function (th, col) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      var numeric = th.getAttribute("data-type") === "number";
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].textContent.trim(), y = b.cells[col].textContent.trim();
          var c = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y, "zh-Hans-CN");
          return ascending ? c : -c;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
