// Parley's inbox: keyboard shortcuts, the reply box's canned responses
// ("/") and the note box's @mentions, the Reply / Private note tabs, the
// typing indicator, "Load more" and the phone's Actions menu. Everything
// here only adds to pages that work without it: every action is a plain
// form. Listeners hang on the document, so they survive htmx swaps.
(function () {
  "use strict";

  var ORDER = "parley.inbox.order";
  var LIST = "parley.inbox.list";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  function store(key, value) {
    try { sessionStorage.setItem(key, value); } catch (e) { /* private mode: j/k stay on the page */ }
  }
  function load(key) {
    try { return sessionStorage.getItem(key); } catch (e) { return null; }
  }

  // ---- The list: remember its order for j/k on a conversation page ----

  function rememberList() {
    if (!$("[data-inbox-list]")) return;
    var rows = $all("a[data-conversation]").map(function (a) { return a.getAttribute("href"); });
    store(ORDER, JSON.stringify(rows));
    store(LIST, location.pathname + location.search);
  }

  // The back link goes to the list the conversation was opened from, with
  // its filters, when that list is this workspace's.
  function backToList() {
    var a = $("[data-back-to-list]");
    var list = load(LIST);
    if (a && list && list.indexOf(a.getAttribute("href")) === 0) a.setAttribute("href", list);
  }

  // "Load more" grows the list; a grown list is no longer refreshed by
  // the live updates, which would take it back to its first page.
  document.addEventListener("click", function (event) {
    var more = event.target instanceof Element && event.target.closest("[data-load-more]");
    if (!more) return;
    var list = document.getElementById("conversation-list");
    if (list) list.setAttribute("data-grown", "");
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "conversation-list" && elt.hasAttribute("data-grown")) event.preventDefault();
  });

  // The list's "Unread only" box applies at once, like its selects
  // (app.js submits those).
  document.addEventListener("change", function (event) {
    var t = event.target;
    if (t instanceof HTMLInputElement && t.type === "checkbox" && t.hasAttribute("data-autosubmit") && t.form) t.form.requestSubmit();
  });

  // When a refreshed thread says the conversation changed (someone else
  // took it over, resolved or assigned it), the header and its actions
  // are fetched again; the reply box, and any draft in it, stays.
  document.addEventListener("htmx:load", function (event) {
    var thread = event.detail.elt;
    var head = document.getElementById("conversation-head");
    if (!thread || thread.id !== "thread" || !head) return;
    if (thread.getAttribute("data-state") === head.getAttribute("data-state")) return;
    head.setAttribute("data-state", thread.getAttribute("data-state"));
    fetch(location.pathname, { credentials: "same-origin" })
      .then(function (res) { return res.ok ? res.text() : ""; })
      .then(function (html) {
        var fresh = html && new DOMParser().parseFromString(html, "text/html").getElementById("conversation-head");
        var now = document.getElementById("conversation-head");
        if (!fresh || !now) return;
        now.replaceWith(fresh);
        if (window.htmx) window.htmx.process(fresh);
      })
      .catch(function () { /* the next change tries again */ });
  });

  // ---- Composer tabs: Reply / Private note ----

  function showTab(composer, name, focus) {
    $all("[role=tab]", composer).forEach(function (tab) {
      var on = tab.getAttribute("data-tab") === name;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      var panel = document.getElementById(tab.getAttribute("aria-controls"));
      if (panel) panel.hidden = !on;
    });
    composer.setAttribute("data-composer", name);
    if (focus) {
      var box = $(name === "note" ? "#note-text" : "#reply-text", composer);
      if (box) box.focus();
    }
  }

  function setUp(root) {
    if (!root || !root.querySelectorAll) return;
    $all("[data-composer]", root).forEach(function (c) { showTab(c, c.getAttribute("data-composer") || "reply", false); });
    if ($("[data-inbox-list]")) rememberList();
    backToList();
  }
  document.addEventListener("DOMContentLoaded", function () { setUp(document.body); });
  document.addEventListener("htmx:load", function (event) { setUp(event.detail.elt); });

  document.addEventListener("click", function (event) {
    var t = event.target;
    if (!(t instanceof Element)) return;
    var tab = t.closest("[data-composer] [role=tab]");
    if (tab) { showTab(tab.closest("[data-composer]"), tab.getAttribute("data-tab"), true); return; }
    var toggle = t.closest(".actions-toggle");
    if (toggle) {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      var panel = document.getElementById(toggle.getAttribute("aria-controls"));
      if (panel) panel.classList.toggle("open", open);
      return;
    }
    if (t.closest("[data-shortcuts-open]")) { openHelp(); }
  });

  // ---- Suggestions: canned responses after "/", members after "@" ----

  var suggest = null; // {box, list, items, index, start, kind}

  function closeSuggest() {
    if (!suggest) return;
    suggest.list.remove();
    suggest.box.removeAttribute("aria-activedescendant");
    suggest.box.setAttribute("aria-expanded", "false");
    suggest = null;
  }

  function showSuggest(box, kind, start, items) {
    closeSuggest();
    if (!items.length) return;
    var list = document.createElement("ul");
    list.className = "suggest";
    list.id = box.id + "-suggest";
    list.setAttribute("role", "listbox");
    list.setAttribute("data-suggest", kind);
    items.forEach(function (it, i) {
      var li = document.createElement("li");
      li.id = list.id + "-" + i;
      li.setAttribute("role", "option");
      var strong = document.createElement("strong");
      strong.textContent = it.label;
      li.appendChild(strong);
      if (it.detail) {
        var span = document.createElement("span");
        span.textContent = it.detail;
        li.appendChild(span);
      }
      li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(i); });
      list.appendChild(li);
    });
    box.parentNode.appendChild(list);
    box.setAttribute("aria-controls", list.id);
    box.setAttribute("aria-expanded", "true");
    suggest = { box: box, list: list, items: items, index: 0, start: start, kind: kind };
    mark();
  }

  function mark() {
    $all("[role=option]", suggest.list).forEach(function (li, i) {
      li.setAttribute("aria-selected", String(i === suggest.index));
    });
    suggest.box.setAttribute("aria-activedescendant", suggest.list.id + "-" + suggest.index);
  }

  // pick replaces the typed "/word" or "@name" with the chosen text.
  function pick(i) {
    var s = suggest;
    if (!s) return;
    var it = s.items[i];
    var box = s.box;
    var end = box.selectionStart;
    box.value = box.value.slice(0, s.start) + it.insert + box.value.slice(end);
    var caret = s.start + it.insert.length;
    box.setSelectionRange(caret, caret);
    closeSuggest();
    box.focus();
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // token finds the word being typed before the caret when it starts with
  // sigil at the start of the box or after a space: {start, word}.
  function token(box, sigil) {
    var before = box.value.slice(0, box.selectionStart);
    var m = new RegExp("(^|\\s)\\" + sigil + "([^\\s" + sigil + "]*)$").exec(before);
    if (!m) return null;
    return { start: before.length - m[2].length - 1, word: m[2] };
  }

  var cannedTimer = 0;
  var cannedSeq = 0;
  function cannedSuggest(box) {
    var tok = token(box, "/");
    if (!tok) { if (suggest && suggest.kind === "canned") closeSuggest(); return; }
    clearTimeout(cannedTimer);
    cannedTimer = setTimeout(function () {
      var seq = ++cannedSeq;
      fetch(box.getAttribute("data-canned") + "?q=" + encodeURIComponent(tok.word), { credentials: "same-origin" })
        .then(function (res) { return res.ok ? res.json() : { responses: [] }; })
        .then(function (body) {
          if (seq !== cannedSeq || document.activeElement !== box) return;
          var items = (body.responses || []).map(function (r) {
            return { label: "/" + r.shortcut, detail: r.title, insert: r.text };
          });
          showSuggest(box, "canned", tok.start, items);
        })
        .catch(function () { /* no list: the agent types the reply */ });
    }, 120);
  }

  function mentionSuggest(box) {
    var tok = token(box, "@");
    if (!tok) { if (suggest && suggest.kind === "mention") closeSuggest(); return; }
    var members;
    try { members = JSON.parse(box.getAttribute("data-mentions") || "[]"); } catch (e) { members = []; }
    var q = tok.word.toLowerCase();
    var items = members.filter(function (m) {
      return m.name.toLowerCase().split(/\s+/).some(function (w) { return w.indexOf(q) === 0; }) || m.name.toLowerCase().indexOf(q) === 0;
    }).slice(0, 8).map(function (m) {
      return { label: m.name, insert: "@[" + m.name.replace(/[\[\]]/g, "") + "](user:" + m.id + ") " };
    });
    showSuggest(box, "mention", tok.start, items);
  }

  // Seen: a thread with messages nobody on the team has seen (data-unread)
  // is marked seen once it is actually on screen, not when the page is
  // merely loaded (a prefetch, a background tab): "seen" reaches the
  // customer in Messenger. Refreshes that bring new messages do it again.
  function markSeen() {
    var page = $("[data-conversation-page][data-can-act]");
    var thread = document.getElementById("thread");
    if (!page || !thread || !thread.hasAttribute("data-unread") || document.visibilityState !== "visible") return;
    thread.removeAttribute("data-unread");
    fetch(page.getAttribute("data-conversation-page") + "/seen", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: ""
    }).catch(function () { /* the next refresh tries again */ });
  }
  document.addEventListener("DOMContentLoaded", markSeen);
  document.addEventListener("htmx:load", markSeen);
  document.addEventListener("visibilitychange", markSeen);

  // The typing indicator: the platform shows "…" to the person while an
  // agent writes; at most one call every 5 s (the server throttles too).
  var typingAt = 0;
  function typing(box) {
    if (!box.value.trim() || Date.now() - typingAt < 5000) return;
    typingAt = Date.now();
    fetch(box.getAttribute("data-typing"), {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "on=1"
    }).catch(function () { /* only a courtesy */ });
  }

  document.addEventListener("input", function (event) {
    var t = event.target;
    if (!(t instanceof HTMLTextAreaElement)) return;
    if (t.hasAttribute("data-canned")) cannedSuggest(t);
    if (t.hasAttribute("data-mentions")) mentionSuggest(t);
    if (t.hasAttribute("data-typing")) typing(t);
  });
  document.addEventListener("focusout", function (event) {
    if (suggest && event.target === suggest.box) closeSuggest();
  });

  // ---- Keyboard ----

  function openHelp() {
    var d = document.getElementById("shortcuts-help");
    if (d && !d.open && d.showModal) d.showModal();
  }

  function typingIn(t) {
    return t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  function click(sel) {
    var el = $(sel);
    if (el) el.click();
    return !!el;
  }

  // move goes to the next (+1) or previous (-1) conversation: in the list
  // the focus moves; on a conversation the neighbour in the list it was
  // opened from opens.
  function move(step) {
    var rows = $all("a[data-conversation]");
    if (rows.length) {
      var i = rows.indexOf(document.activeElement);
      var next = i < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.min(rows.length - 1, Math.max(0, i + step));
      rows[next].focus();
      rows[next].scrollIntoView({ block: "nearest" });
      return;
    }
    var page = $("[data-conversation-page]");
    var order;
    try { order = JSON.parse(load(ORDER) || "[]"); } catch (e) { order = []; }
    if (!page || !order.length) return;
    var at = order.indexOf(page.getAttribute("data-conversation-page"));
    var to = order[at + step];
    if (at < 0 || !to) return;
    location.assign(to);
  }

  // The key that picked a suggestion types nothing, even where a browser
  // (or a test driver) delivers its character apart from the keydown.
  var swallow = false;
  document.addEventListener("beforeinput", function (event) { if (swallow) event.preventDefault(); });
  document.addEventListener("keypress", function (event) { if (swallow) event.preventDefault(); });
  document.addEventListener("keyup", function () { swallow = false; });

  document.addEventListener("keydown", function (event) {
    var t = event.target;
    // The suggestion list, while it is open.
    if (suggest && t === suggest.box) {
      var n = suggest.items.length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        suggest.index = (suggest.index + (event.key === "ArrowDown" ? 1 : n - 1)) % n;
        mark();
        event.preventDefault();
        return;
      }
      if ((event.key === "Enter" && !event.ctrlKey && !event.metaKey) || event.key === "Tab") {
        pick(suggest.index);
        event.preventDefault();
        swallow = true;
        return;
      }
      if (event.key === "Escape") {
        closeSuggest();
        event.preventDefault();
        event.stopPropagation();
        return;
      }
    }
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (typingIn(t)) {
      // Esc leaves a box, so the shortcuts work again.
      if (event.key === "Escape" && (t.tagName === "TEXTAREA" || t.tagName === "INPUT")) t.blur();
      return;
    }
    var onList = !!$("[data-inbox-list]");
    var onConv = !!$("[data-conversation-page]");
    if (!onList && !onConv) return;
    var handled = true;
    switch (event.key) {
      case "?": openHelp(); break;
      case "j": move(1); break;
      case "k": move(-1); break;
      case "r": case "n": {
        var composer = $("[data-composer]");
        if (composer) showTab(composer, event.key === "n" ? "note" : "reply", true); else handled = false;
        break;
      }
      case "e": handled = click("[data-action=resolve]") || click("[data-action=reopen]"); break;
      case "t": handled = click("[data-action=takeover]") || click("[data-action=return]"); break;
      case "s": {
        var menu = document.getElementById("snooze-menu");
        if (menu) {
          var actions = document.getElementById("conversation-actions");
          if (actions) actions.classList.add("open");
          menu.open = true;
          var first = $("button", menu);
          if (first) first.focus();
        } else handled = false;
        break;
      }
      case "u": handled = click("[data-back-to-list]"); break;
      case "Escape": {
        var open = $all("details[open]");
        open.forEach(function (d) { d.open = false; });
        handled = open.length > 0;
        break;
      }
      default: handled = false;
    }
    if (handled) {
      event.preventDefault();
      swallow = true; // "n" moves the focus into the note box: type no "n" there
    }
  });
})();
