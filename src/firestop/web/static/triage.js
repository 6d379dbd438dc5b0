// Keep the triage queue current: ask the signal API, with the page's own filters, every few
// seconds; add the signals that arrived and update the counts and states of those shown.
//
// Titles, rules and every other value come from AI systems, reporters or other tools: they
// are hostile. They only ever reach the page as text nodes (textContent), never as markup.
(function () {
  "use strict";
  var table = document.getElementById("queue");
  if (!table) {
    return;
  }
  var api = table.getAttribute("data-api");
  var seconds = Number(table.getAttribute("data-poll") || 0);
  if (!api || !(seconds > 0)) {
    return;
  }
  var body = table.tBodies[0];
  var state = document.getElementById("queue-state");
  var empty = document.getElementById("queue-empty");
  var HINTS = { SEV1: true, SEV2: true, SEV3: true, SEV4: true };

  function text(tag, value, className) {
    var node = document.createElement(tag);
    node.textContent = value;
    if (className) {
      node.className = className;
    }
    return node;
  }

  // The same text the server's "when" filter writes: "2026-11-27 10:00:00 UTC".
  function when(iso) {
    var date = new Date(iso);
    var node = document.createElement("time");
    node.setAttribute("datetime", iso);
    node.textContent = isNaN(date.getTime())
      ? iso
      : date.toISOString().slice(0, 19).replace("T", " ") + " UTC";
    return node;
  }

  function fill(cell, nodes) {
    while (cell.firstChild) {
      cell.removeChild(cell.firstChild);
    }
    nodes.forEach(function (node, i) {
      if (i > 0) {
        cell.appendChild(document.createTextNode(" "));
      }
      cell.appendChild(node);
    });
  }

  function cell(row, name) {
    return row.querySelector('td[data-cell="' + name + '"]');
  }

  function stateBadges(s) {
    var badges = [text("span", String(s.status).replace(/_/g, " "), "badge")];
    if (s.escalated) {
      badges.push(text("span", "escalated", "badge escalated"));
    }
    if (s.snoozed) {
      badges.push(text("span", "snoozed", "badge snoozed"));
    }
    return badges;
  }

  function hint(s) {
    if (!s.severity_hint || !HINTS[s.severity_hint]) {
      return [document.createTextNode("—")];
    }
    return [text("span", s.severity_hint, "badge sev sev-" + s.severity_hint)];
  }

  function newRow(s) {
    var row = document.createElement("tr");
    row.id = "signal-" + s.id;
    row.setAttribute("data-signal", String(s.id));
    var columns = [
      ["title", ""],
      ["detector", "mono"],
      ["rule", "mono"],
      ["system", "mono"],
      ["hint", ""],
      ["occurrences", "num"],
      ["state", ""],
      ["route", "mono"],
      ["last_seen", ""]
    ];
    columns.forEach(function (c) {
      var td = document.createElement("td");
      td.setAttribute("data-cell", c[0]);
      if (c[1]) {
        td.className = c[1];
      }
      row.appendChild(td);
    });
    var link = text("a", s.title);
    link.setAttribute("href", "/signals/" + encodeURIComponent(String(s.id)));
    fill(cell(row, "title"), [link]);
    cell(row, "detector").textContent = s.detector_id || s.source;
    cell(row, "rule").textContent = s.rule || "—";
    cell(row, "system").textContent = s.system || "—";
    row.classList.add("fresh");
    return row;
  }

  function update(row, s) {
    var occurrences = cell(row, "occurrences");
    var count = String(s.occurrences);
    if (occurrences.textContent !== count) {
      if (occurrences.textContent !== "") {
        row.classList.add("changed");
      }
      occurrences.textContent = count;
    }
    fill(cell(row, "hint"), hint(s));
    fill(cell(row, "state"), stateBadges(s));
    cell(row, "route").textContent = s.route_rule || "—";
    fill(cell(row, "last_seen"), [when(s.last_seen)]);
    row.classList.remove("gone");
  }

  function apply(signals) {
    var seen = {};
    // Oldest first, each new one inserted at the top: the newest ends up first, as served.
    for (var i = signals.length - 1; i >= 0; i--) {
      var s = signals[i];
      seen[String(s.id)] = true;
      var row = document.getElementById("signal-" + s.id);
      if (!row) {
        row = newRow(s);
        body.insertBefore(row, body.firstChild);
      }
      update(row, s);
    }
    // Decided, snoozed or filtered out elsewhere: kept in place (someone may be reading it)
    // but marked, so it is not mistaken for waiting work.
    Array.prototype.forEach.call(body.rows, function (row) {
      if (!seen[row.getAttribute("data-signal")]) {
        row.classList.add("gone");
      }
    });
    if (empty) {
      empty.hidden = body.rows.length > 0;
    }
  }

  function say(message) {
    if (state) {
      state.textContent = message;
    }
  }

  function poll() {
    if (document.visibilityState !== "visible") {
      window.setTimeout(poll, seconds * 1000);
      return;
    }
    fetch(api, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401) {
          throw new Error("signed out: log in again to keep the queue current");
        }
        if (!response.ok) {
          throw new Error("the server answered " + response.status);
        }
        return response.json();
      })
      .then(function (signals) {
        apply(signals);
        say("Updated " + new Date().toISOString().slice(11, 19) + " UTC.");
      })
      .catch(function (error) {
        say("Not updated: " + error.message + ".");
      })
      .then(function () {
        window.setTimeout(poll, seconds * 1000);
      });
  }

  window.setTimeout(poll, seconds * 1000);
})();
