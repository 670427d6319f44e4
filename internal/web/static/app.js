// Parley dashboard behaviour. The Content-Security-Policy forbids inline
// scripts, so everything lives here. Listeners hang on the document, so they
// keep working after htmx swaps the page's body.
(function () {
  "use strict";

  // Lets the stylesheet fold the sidebar behind the Menu button on phones;
  // without JavaScript the menu simply stays open.
  document.documentElement.classList.add("js");

  function toggleMenu(button) {
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    var panel = document.getElementById(button.getAttribute("aria-controls"));
    if (panel) panel.classList.toggle("open", open);
  }

  function copied(button) {
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    button.textContent = "Copied";
    setTimeout(function () { button.textContent = label; }, 2000);
  }

  // Copies the text of the element named by data-copy. The clipboard API
  // needs a secure context (https or localhost); elsewhere the text is
  // selected and copied the old way.
  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = "value" in source ? source.value : source.textContent.trim();
    var fallback = function () {
      if (source.select) {
        source.focus();
        source.select();
      } else {
        var range = document.createRange();
        range.selectNodeContents(source);
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
      }
      try { if (document.execCommand("copy")) copied(button); } catch (e) { /* the text stays selected */ }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(button); }, fallback);
    } else {
      fallback();
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    var menu = target.closest(".menu-button");
    if (menu) { toggleMenu(menu); return; }
    var copyButton = target.closest("[data-copy]");
    if (copyButton) { copy(copyButton); return; }
    // Choosing a workspace closes the switcher.
    var switcherLink = target.closest(".switcher a");
    if (switcherLink) {
      var details = switcherLink.closest("details");
      if (details) details.open = false;
    }
  });

  // Ctrl+Enter (Cmd+Enter on a Mac) sends a message from its box.
  document.addEventListener("keydown", function (event) {
    var t = event.target;
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    if (!(t instanceof HTMLTextAreaElement) || !t.hasAttribute("data-send-shortcut") || !t.form) return;
    event.preventDefault();
    t.form.requestSubmit();
  });

  // "/" focuses the search box at the top of the page, unless the reader
  // is typing in a field (where "/" is a character, or opens the canned
  // responses of the reply box). The "/" itself types nothing in the box,
  // even where a browser (or a test driver) delivers its character apart
  // from the keydown.
  var slashed = false;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    var t = event.target;
    if (t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    var box = document.querySelector("[data-search-box]");
    if (!box) return;
    event.preventDefault();
    slashed = true;
    box.focus();
    box.select();
  });
  document.addEventListener("beforeinput", function (event) { if (slashed) event.preventDefault(); });
  document.addEventListener("keypress", function (event) { if (slashed) event.preventDefault(); });
  document.addEventListener("keyup", function () { slashed = false; });

  // A thread (data-autoscroll) opens at its newest message. When polling
  // brings new messages, it follows them only if the reader was already at
  // the bottom; someone reading older messages keeps their place.
  var scrollState = {};
  function atBottom(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < 48; }
  function scrollToEnd(root) {
    if (!root || !root.querySelectorAll) return;
    var els = Array.prototype.slice.call(root.querySelectorAll("[data-autoscroll]"));
    if (root.hasAttribute && root.hasAttribute("data-autoscroll")) els.push(root);
    els.forEach(function (el) {
      var before = el.id && scrollState[el.id];
      if (before && !before.bottom) {
        el.scrollTop = before.top;
      } else {
        el.scrollTop = el.scrollHeight;
      }
      if (el.id) delete scrollState[el.id];
    });
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var t = event.detail.target;
    if (t instanceof Element && t.hasAttribute("data-autoscroll") && t.id) {
      scrollState[t.id] = { bottom: atBottom(t), top: t.scrollTop };
    }
  });
  document.addEventListener("htmx:load", function (event) { scrollToEnd(event.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { scrollToEnd(document.body); });

  // Custom field forms: the key follows the label until someone edits it
  // (Latin letters only; other scripts leave it for the person to type),
  // and the choices box shows only for a "one of a list" field. Without
  // JavaScript both stay plain inputs.
  function slug(s) {
    var out = s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
    if (/^[0-9]/.test(out)) out = "f_" + out;
    return out.slice(0, 40).replace(/_+$/, "");
  }
  function showChoices(root) {
    if (!root || !root.querySelectorAll) return;
    var forms = Array.prototype.slice.call(root.querySelectorAll("[data-field-form]"));
    if (root.hasAttribute && root.hasAttribute("data-field-form")) forms.push(root);
    forms.forEach(function (form) {
      var select = form.querySelector("[data-type-select]");
      var box = form.querySelector("[data-choices]");
      if (select && box) box.hidden = select.value !== "choice";
    });
  }
  document.addEventListener("input", function (event) {
    var t = event.target;
    if (!(t instanceof HTMLInputElement) || !t.hasAttribute("data-key-source") || !t.form) return;
    // Follow the label only while the key is empty or still the one
    // filled in from it: a key someone typed is theirs.
    var key = t.form.querySelector("[data-key-target]");
    if (!key || (key.value !== "" && key.value !== key.getAttribute("data-auto"))) return;
    key.value = slug(t.value);
    key.setAttribute("data-auto", key.value);
  });
  document.addEventListener("change", function (event) {
    var t = event.target;
    if (t instanceof HTMLSelectElement && t.hasAttribute("data-type-select")) showChoices(t.form);
  });
  document.addEventListener("htmx:load", function (event) { showChoices(event.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { showChoices(document.body); });

  // Islands (the flow editor) are module scripts. htmx does not run the
  // scripts of a page it swaps in (allowScriptTags is off), so the bundle
  // an island names is loaded here. A module runs once per page however
  // often it is added (browsers key modules by URL); one already running
  // mounts new islands itself on htmx:load.
  var islandScripts = {};
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    if (!root || !root.querySelectorAll) return;
    var islands = Array.prototype.slice.call(root.querySelectorAll("[data-island]"));
    if (root.hasAttribute && root.hasAttribute("data-island")) islands.push(root);
    islands.forEach(function (el) {
      var src = el.getAttribute("data-island");
      if (!src || islandScripts[src]) return;
      islandScripts[src] = true;
      var script = document.createElement("script");
      script.type = "module";
      script.src = src;
      document.head.appendChild(script);
    });
  });

  // Live updates. A page region that shows conversations carries
  // data-live with its workspace's event stream; while one is on the page
  // an EventSource listens, and each hint (IDs only) fires "live-update" on
  // the body, which the regions' hx-trigger refreshes on. Hints arriving
  // together make one refresh. The regions keep a slow poll as the
  // fallback should the stream be down. One stream per page at most: it is
  // closed when a boosted navigation leaves the pages that want it.
  var live = null;
  var liveURL = "";
  var liveTimer = 0;
  function liveUpdate() {
    if (liveTimer) return;
    liveTimer = setTimeout(function () {
      liveTimer = 0;
      document.body.dispatchEvent(new CustomEvent("live-update"));
    }, 100);
  }
  function syncLive() {
    var el = document.querySelector("[data-live]");
    var url = el ? el.getAttribute("data-live") : "";
    if (url === liveURL && live && live.readyState !== EventSource.CLOSED) return;
    if (live) live.close();
    live = null;
    document.documentElement.removeAttribute("data-live-open");
    liveURL = url;
    if (!url || !window.EventSource) return;
    live = new EventSource(url);
    // Marks the page while the stream is open (the browser tests wait
    // for it before they expect live updates).
    var root = document.documentElement;
    root.removeAttribute("data-live-open");
    // The server ends each stream after a while (access is checked again
    // on reconnect): on reopening, the page refreshes what it may have
    // missed in between.
    var opened = false;
    live.addEventListener("open", function () {
      root.setAttribute("data-live-open", "");
      if (opened) liveUpdate();
      opened = true;
    });
    live.addEventListener("error", function () { root.removeAttribute("data-live-open"); });
    ["conversation", "message", "resync"].forEach(function (kind) {
      live.addEventListener(kind, liveUpdate);
    });
  }
  document.addEventListener("htmx:load", syncLive);
  document.addEventListener("DOMContentLoaded", syncLive);

  // Pipeline boards: drag a card to another column, or between two cards,
  // and the move is posted like the card's own "Move to" form (contact,
  // stage, and the card it goes before); the server answers the whole
  // board, which htmx swaps in. Without a mouse, or without JavaScript,
  // each card's form does the same.
  var dragged = null;
  function clearDropMarks() {
    Array.prototype.forEach.call(document.querySelectorAll(".drop-target, .drop-before"), function (el) {
      el.classList.remove("drop-target", "drop-before");
    });
  }
  // The card the dragged one goes before: the first card of the column
  // whose middle is below the pointer (null: the end of the column).
  function cardBefore(list, y) {
    var cards = list.querySelectorAll(".board-card");
    for (var i = 0; i < cards.length; i++) {
      if (cards[i] === dragged) continue;
      var box = cards[i].getBoundingClientRect();
      if (y < box.top + box.height / 2) return cards[i];
    }
    return null;
  }
  document.addEventListener("dragstart", function (event) {
    var card = event.target instanceof Element && event.target.closest(".board-card[draggable=true]");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-contact"));
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    clearDropMarks();
  });
  document.addEventListener("dragover", function (event) {
    var list = dragged && event.target instanceof Element && event.target.closest(".board-cards");
    if (!list) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clearDropMarks();
    list.classList.add("drop-target");
    var before = cardBefore(list, event.clientY);
    if (before) before.classList.add("drop-before");
  });
  document.addEventListener("drop", function (event) {
    var list = dragged && event.target instanceof Element && event.target.closest(".board-cards");
    var board = list && list.closest("[data-board]");
    if (!board) return;
    event.preventDefault();
    var before = cardBefore(list, event.clientY);
    var values = {
      contact_id: dragged.getAttribute("data-contact"),
      stage_id: list.getAttribute("data-stage"),
      before: before ? before.getAttribute("data-contact") : ""
    };
    var url = board.getAttribute("data-board");
    dragged.classList.remove("dragging");
    dragged = null;
    clearDropMarks();
    if (window.htmx) {
      window.htmx.ajax("POST", url, { target: "#board", swap: "outerHTML", values: values });
    }
  });

  // The availability switch saves as soon as another status is chosen
  // (mouse or arrow keys), in the background so focus stays on it; the
  // live region says it was saved. On failure the form posts normally.
  document.addEventListener("change", function (event) {
    var t = event.target;
    if (!(t instanceof HTMLInputElement) || t.name !== "status" || !t.form || !t.form.hasAttribute("data-availability")) return;
    var form = t.form;
    var said = form.querySelector("[data-availability-said]");
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { "X-Parley-Background": "1" },
      credentials: "same-origin"
    }).then(function (res) {
      if (res.status !== 204) throw new Error("status " + res.status);
      form.setAttribute("data-saved", t.value);
      if (said) said.textContent = "Status saved: " + t.parentNode.textContent.trim() + ".";
    }).catch(function () { form.requestSubmit(); });
  });

  // The contacts' filter builder: each line offers only the operators of
  // its field (data-ops on the field's option), hides the value box for
  // operators that take none, and suggests values (tags, channels, yes or
  // no). Without JavaScript every operator is offered and the server
  // explains a wrong choice.
  function filterLine(row) {
    var field = row.querySelector("[data-filter-field]");
    var op = row.querySelector("[data-filter-op]");
    var value = row.querySelector("[data-filter-value]");
    if (!field || !op || !value) return;
    var chosen = field.options[field.selectedIndex];
    var ops = chosen && chosen.getAttribute("data-ops") ? chosen.getAttribute("data-ops").split(" ") : null;
    var first = null;
    Array.prototype.forEach.call(op.options, function (o) {
      var ok = !ops || ops.indexOf(o.value) >= 0;
      o.hidden = !ok;
      o.disabled = !ok;
      if (ok && !first) first = o;
    });
    if (op.selectedOptions.length === 0 || op.selectedOptions[0].disabled) {
      if (first) op.value = first.value;
    }
    var sel = op.options[op.selectedIndex];
    value.hidden = !!(sel && sel.hasAttribute("data-novalue"));
    var list = chosen && chosen.getAttribute("data-list");
    if (list) value.setAttribute("list", list); else value.removeAttribute("list");
    value.placeholder = (chosen && chosen.getAttribute("data-hint")) || "";
  }
  function filterLines(root) {
    if (!root || !root.querySelectorAll) return;
    Array.prototype.forEach.call(root.querySelectorAll(".filter-row"), filterLine);
  }
  document.addEventListener("change", function (event) {
    var t = event.target;
    if (!(t instanceof HTMLSelectElement)) return;
    if (t.hasAttribute("data-filter-field") || t.hasAttribute("data-filter-op")) {
      var row = t.closest(".filter-row");
      if (row) filterLine(row);
    }
    // A picker (the segment list) shows its choice at once.
    if (t.hasAttribute("data-autosubmit") && t.form) t.form.requestSubmit();
  });
  document.addEventListener("htmx:load", function (event) { filterLines(event.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { filterLines(document.body); });

  // After a move the board comes back whole: the card just moved is
  // brought into view (a phone shows one column at a time) and its "Move
  // to" list gets the focus back, so a keyboard user goes on from there.
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    if (!root || !root.querySelector) return;
    var card = root.querySelector(".board-card[data-moved]");
    if (!card) return;
    var select = card.querySelector("select");
    if (select) select.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest", inline: "nearest" });
  });

  // A read-only field holding a secret selects itself when focused, so it
  // can be copied by hand too.
  document.addEventListener("focusin", function (event) {
    var t = event.target;
    if (t instanceof HTMLInputElement && t.readOnly) t.select();
  });
})();
