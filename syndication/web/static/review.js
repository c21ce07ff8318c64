// Review app: in-place segment editing with placeholder chips. Progressive: every form works without
// this file (a textarea with the raw placeholder markup); this adds the chip editor, saving without a
// page load, conflict display and keyboard shortcuts. No build step, no dependencies.
(function () {
  "use strict";

  function escText(s) {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  // The editor's DOM back to segment markup: text escaped, chips as <g>/<x> placeholders.
  function serialize(node) {
    let out = "";
    node.childNodes.forEach(function (child) {
      if (child.nodeType === Node.TEXT_NODE) {
        out += escText(child.nodeValue);
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        const kind = child.dataset ? child.dataset.ph : undefined;
        const id = escText(child.dataset && child.dataset.id ? child.dataset.id : "").replace(/"/g, "&quot;");
        if (kind === "open") out += '<g id="' + id + '">';
        else if (kind === "close") out += "</g>";
        else if (kind === "empty") out += '<x id="' + id + '"/>';
        else if (child.tagName === "BR") out += " ";
        else out += (child.tagName === "DIV" || child.tagName === "P" ? " " : "") + serialize(child);
      }
    });
    return out;
  }

  function segmentOf(el) { return el.closest(".seg"); }

  function setStatus(form, text, isError) {
    const status = form.querySelector(".seg-status");
    status.textContent = text;
    status.classList.toggle("error", !!isError);
  }

  function renderFlags(article, flags) {
    const list = article.querySelector(".flags");
    list.replaceChildren();
    flags.forEach(function (f) {
      const li = document.createElement("li");
      li.className = "flag flag-" + f.code;
      const code = document.createElement("span");
      code.className = "flag-code";
      code.textContent = f.code.replace(/_/g, " ");
      li.append(code, " " + f.message);
      list.append(li);
    });
    article.classList.toggle("seg-flagged", flags.length > 0);
    showFlagCount();
  }

  // Segments not yet approved with QA flags as the page shows them now (edits clear or raise flags;
  // a segment marked done keeps its flags until the item is approved, as on the server).
  function flaggedOpen() {
    return document.querySelectorAll(".seg.seg-flagged:not(.seg-approved)").length;
  }

  // A saved or confirmed segment is done: the open count and the "only open" filter follow at once.
  function showSegmentState(article, state) {
    ["open", "done", "approved"].forEach(function (s) { article.classList.toggle("seg-" + s, s === state); });
    const badge = article.querySelector(".seg-state");
    if (badge) {
      badge.textContent = state === "approved" || state === "done" ? state : "open";
      badge.className = "badge badge-" + state + " seg-state";
    }
    const open = String(document.querySelectorAll(".seg.seg-open").length);
    const count = document.getElementById("open-count");
    if (count) count.textContent = open;
    document.querySelectorAll(".decision .open-left").forEach(function (el) { el.textContent = open; });
  }

  function showFlagCount() {
    const n = flaggedOpen();
    const count = document.getElementById("flag-count");
    if (count) count.textContent = String(n);
    const label = document.querySelector(".decision .confirm");
    if (label) {
      label.hidden = n === 0;
      const text = label.querySelector(".confirm-text");
      if (text) text.textContent = "Approve although " + n + (n === 1 ? " segment still has" : " segments still have") + " QA flags";
    }
  }

  // The decision form carries the item version this page has shown. A save moves it on only when
  // nothing else changed the item in between (version + 1): another editor's edit that this page
  // never showed must still make the decision stale on the server.
  function advanceItemVersion(version) {
    document.querySelectorAll('input[name="item_version"]').forEach(function (input) {
      if (parseInt(input.value, 10) + 1 === version) input.value = String(version);
    });
  }

  function refreshPreview() {
    const frame = document.querySelector(".preview iframe");
    if (frame) frame.src = frame.src.split("?")[0] + "?t=" + Date.now();
  }

  // seg.html is built by the server (syndication/web/editor.py), every text in it escaped.
  function applySegment(form, seg) {
    const editor = form.querySelector(".seg-editor");
    editor.innerHTML = seg.html;
    editor.dataset.saved = editor.innerHTML;
    form.querySelector('input[name="version"]').value = String(seg.version);
    form.querySelector(".seg-raw").value = seg.text;
    const article = segmentOf(form);
    const origin = article.querySelector(".origin");
    if (origin) {
      origin.textContent = seg.origin;
      origin.className = "origin origin-" + seg.origin;
    }
    if (seg.state) showSegmentState(article, seg.state);
    renderFlags(article, seg.flags || []);
    advanceItemVersion(seg.item_version);
  }

  function showTheirs(form, seg) {
    let box = form.querySelector(".seg-theirs");
    if (!box) {
      box = document.createElement("div");
      box.className = "seg-theirs";
      form.insertBefore(box, form.querySelector(".seg-raw"));
    }
    const p = document.createElement("p");
    p.textContent = "Current text" + (seg.updated_by ? " (by " + seg.updated_by + ")" : "") + ":";
    const text = document.createElement("div");
    text.innerHTML = seg.html;
    box.replaceChildren(p, text);
    // Saving again deliberately replaces their text; the item version stays as this page saw it.
    form.querySelector('input[name="version"]').value = String(seg.version);
  }

  // Unsaved edits live in this browser's localStorage (per item and segment, with the segment version
  // they started from) until saved or undone, so an ended session, a reload or a closed tab loses
  // nothing: the page puts the text back when it is opened again.
  const DRAFT = "syndication-draft:";

  function draftKey(form) {
    const item = document.querySelector("article.item");
    return DRAFT + (item ? item.dataset.item : "") + ":" + segmentOf(form).dataset.key;
  }

  function storeDraft(form) {
    try {
      localStorage.setItem(draftKey(form), JSON.stringify({
        version: form.querySelector('input[name="version"]').value,
        html: form.querySelector(".seg-editor").innerHTML,
      }));
    } catch (err) { /* storage off or full: the edit stays on this page only */ }
  }

  function dropDraft(form) {
    try { localStorage.removeItem(draftKey(form)); } catch (err) { /* storage off */ }
  }

  // Only text and chips come back from storage: anything else there becomes its plain text.
  function cleanDraft(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    template.content.querySelectorAll("*").forEach(function (el) {
      if (!el.isConnected) return;
      if (el.tagName === "SPAN" && el.classList.contains("chip")) {
        Array.from(el.attributes).forEach(function (attr) {
          if (!["class", "data-ph", "data-id", "title", "contenteditable"].includes(attr.name)) el.removeAttribute(attr.name);
        });
      } else {
        el.replaceWith(document.createTextNode(el.textContent || ""));
      }
    });
    return template.innerHTML;
  }

  function restoreDraft(form) {
    let draft = null;
    try { draft = JSON.parse(localStorage.getItem(draftKey(form)) || "null"); } catch (err) { draft = null; }
    if (!draft || typeof draft.html !== "string") return;
    const editor = form.querySelector(".seg-editor");
    const html = cleanDraft(draft.html);
    if (html === editor.innerHTML) {
      dropDraft(form);
      return;
    }
    editor.innerHTML = html;
    const version = form.querySelector('input[name="version"]');
    const changed = String(draft.version) !== version.value;
    // Saved from the version it started on: if the segment changed since, the save shows the conflict
    // (the other text beside this one) instead of silently replacing it.
    version.value = String(draft.version);
    markDirty(form, true);
    setStatus(form, "Your unsaved edit is back from this browser" + (changed ? " (the segment changed since: saving shows both)" : "") + ". Save it, or Esc to drop it.", false);
  }

  function markDirty(form, dirty) {
    form.classList.toggle("dirty", dirty);
    if (dirty) storeDraft(form);
    else dropDraft(form);
  }

  // A login in another tab starts a new session with a new CSRF token: this tab asks for it and
  // puts it into every form on the page, so the save (and the decision buttons) go through.
  async function freshToken() {
    try {
      const response = await fetch("/session/token", {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        redirect: "manual",
      });
      if (!response.ok) return null;
      const data = await response.json();
      return typeof data.csrf_token === "string" ? data.csrf_token : null;
    } catch (err) {
      return null;
    }
  }

  function setToken(token) {
    document.querySelectorAll('input[name="csrf_token"]').forEach(function (input) { input.value = token; });
  }

  async function save(form, moveNext) {
    const editor = form.querySelector(".seg-editor");
    form.querySelector(".seg-raw").value = serialize(editor);
    setStatus(form, "Saving…", false);
    const send = function () {
      return fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
    };
    let response;
    try {
      response = await send();
      if (response.status === 401 || response.status === 403) {
        const token = await freshToken();
        const current = form.querySelector('input[name="csrf_token"]');
        if (token && current && token !== current.value) {
          setToken(token);
          response = await send();
        }
      }
    } catch (err) {
      setStatus(form, "Not saved: the server cannot be reached. Your text is still here.", true);
      return false;
    }
    const body = await response.text().catch(function () { return ""; });
    let data = null;
    try { data = JSON.parse(body); } catch (err) { data = null; }
    if (response.status === 401) {
      setStatus(form, "Not saved: your session ended. Log in again (in another tab, or reload: your edit is kept in this browser), then save.", true);
      return false;
    }
    if (!data) {
      // A refusal before the route (an expired security token, a body too large) is plain text.
      const reason = body && body.length < 300 ? ": " + body : "";
      setStatus(form, "Not saved (HTTP " + response.status + ")" + reason + ". Your text is still here.", true);
      return false;
    }
    if (response.ok) {
      applySegment(form, data.segment);
      const theirs = form.querySelector(".seg-theirs");
      if (theirs) theirs.remove();
      markDirty(form, false);
      setStatus(form, "Saved", false);
      // assist.js offers to apply the saved text to identical segments.
      form.dispatchEvent(new CustomEvent("segment-saved", { bubbles: true, detail: data.segment }));
      refreshPreview();
      if (moveNext) focusNext(form);
      return true;
    }
    if (response.status === 409 && data.segment) {
      showTheirs(form, data.segment);
      // The server's message says whose text is shown above and that the editor's own is kept.
      setStatus(form, data.error + ".", true);
    } else {
      setStatus(form, data.error || "Not saved (HTTP " + response.status + ").", true);
    }
    return false;
  }

  function focusNext(form) {
    const forms = Array.from(document.querySelectorAll(".seg-form"));
    const rest = forms.slice(forms.indexOf(form) + 1);
    const next = rest.find(function (f) { return segmentOf(f).classList.contains("seg-open"); }) || rest[0];
    if (next) {
      const editor = next.querySelector(".seg-editor");
      editor.focus();
      editor.scrollIntoView({ block: "center", behavior: "smooth" });
    }
  }

  function chipPair(sourceChip) {
    const container = sourceChip.closest(".source-text");
    const id = sourceChip.dataset.id;
    const find = function (kind) {
      return Array.from(container.querySelectorAll('.chip[data-ph="' + kind + '"]'))
        .find(function (c) { return c.dataset.id === id; });
    };
    return sourceChip.dataset.ph === "empty" ? [sourceChip, null] : [find("open"), find("close")];
  }

  function insertChip(editor, sourceChip) {
    const pair = chipPair(sourceChip);
    if (!pair[0]) return;
    const open = pair[0].cloneNode(true);
    const close = pair[1] ? pair[1].cloneNode(true) : null;
    const selection = window.getSelection();
    let range = null;
    if (selection.rangeCount && editor.contains(selection.getRangeAt(0).commonAncestorContainer)) {
      range = selection.getRangeAt(0);
    } else {
      range = document.createRange();
      range.selectNodeContents(editor);
      range.collapse(false);
    }
    const empty = range.collapsed;
    if (close) {
      // Wraps the selected words, as Phrase and memoQ do; an empty selection gets an empty pair
      // with the caret between its chips, so the words typed next are inside the link or emphasis.
      const words = range.extractContents();
      const fragment = document.createDocumentFragment();
      fragment.append(open, words, close);
      range.insertNode(fragment);
    } else {
      range.insertNode(open);
    }
    if (close && empty) {
      // An empty text node between the chips holds the caret there (Chromium would otherwise move
      // it out past the non-editable chip).
      const slot = document.createTextNode("");
      close.before(slot);
      range.setStart(slot, 0);
    } else {
      range.setStartAfter(close || open);
    }
    range.collapse(true);
    selection.removeAllRanges();
    selection.addRange(range);
    editor.focus();
    markDirty(editor.closest(".seg-form"), true);
  }

  // F9 (memoQ's key for it) puts back the first placeholder of the source that the editor lacks,
  // wrapping the selected words: the keyboard way to do what a click on a source chip does.
  function insertNextMissing(form) {
    const editor = form.querySelector(".seg-editor");
    const source = segmentOf(form).querySelector(".source-text");
    if (!source) return false;
    const present = new Set(Array.from(editor.querySelectorAll('.chip[data-ph="open"], .chip[data-ph="empty"]'))
      .map(function (c) { return c.dataset.id; }));
    const missing = Array.from(source.querySelectorAll('.chip[data-ph="open"], .chip[data-ph="empty"]'))
      .find(function (c) { return !present.has(c.dataset.id); });
    if (!missing) {
      setStatus(form, "Every placeholder of the source is in the translation.", false);
      return false;
    }
    insertChip(editor, missing);
    setStatus(form, "Inserted placeholder " + missing.dataset.id + ".", false);
    return true;
  }

  function setUpSegment(form) {
    const editor = form.querySelector(".seg-editor");
    editor.dataset.saved = editor.innerHTML;
    restoreDraft(form);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      save(form, false);
    });
    editor.addEventListener("input", function () { markDirty(form, true); });
    editor.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault(); // one segment is one paragraph: no line breaks inside it
        if (event.ctrlKey || event.metaKey) save(form, true);
      } else if (event.key === "F9") {
        event.preventDefault();
        insertNextMissing(form);
      } else if (event.key === "Escape") {
        editor.innerHTML = editor.dataset.saved;
        markDirty(form, false);
        setStatus(form, "Undone", false);
      }
    });
    editor.addEventListener("paste", function (event) {
      event.preventDefault(); // plain text only: pasted markup would bring foreign tags along
      const text = (event.clipboardData || window.clipboardData).getData("text/plain").replace(/\s+/g, " ");
      document.execCommand("insertText", false, text);
    });
    editor.addEventListener("drop", function (event) { event.preventDefault(); });
    const source = segmentOf(form).querySelector(".source-text");
    if (source) {
      source.querySelectorAll(".chip").forEach(function (chip) {
        chip.setAttribute("role", "button");
        chip.title = chip.title + " — click to insert";
        // mousedown, not click: the editor keeps its caret.
        chip.addEventListener("mousedown", function (event) {
          event.preventDefault();
          insertChip(editor, chip);
        });
      });
    }
  }

  let leaving = false;

  function setUpDecision(form) {
    let sent = false;
    form.addEventListener("submit", function (event) {
      if (sent) {
        event.preventDefault(); // a double click decides once
        return;
      }
      const approving = !event.submitter || event.submitter.classList.contains("approve");
      const dirty = document.querySelectorAll(".seg-form.dirty").length;
      if (dirty && !window.confirm(dirty + " segment(s) have unsaved edits, which will not be part of this decision. Continue?")) {
        event.preventDefault();
        return;
      }
      const flags = flaggedOpen();
      const box = form.querySelector('input[name="confirm_flags"]');
      if (approving && flags > 0 && !(box && box.checked)) {
        if (window.confirm(flags + " segment(s) still have QA flags. Approve anyway?")) {
          if (box) {
            box.checked = true;
          } else { // the flags came with an edit made on this page: no checkbox was drawn for them
            const confirmed = document.createElement("input");
            confirmed.type = "hidden";
            confirmed.name = "confirm_flags";
            confirmed.value = "1";
            form.append(confirmed);
          }
        } else {
          event.preventDefault();
        }
      }
      if (!event.defaultPrevented) {
        sent = true;
        leaving = true; // the unsaved edits were already confirmed away
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".seg-form").forEach(setUpSegment);
    document.querySelectorAll("form.decide").forEach(setUpDecision);
    const onlyOpen = document.getElementById("only-open");
    if (onlyOpen) {
      onlyOpen.addEventListener("change", function () {
        document.body.classList.toggle("only-open", onlyOpen.checked);
      });
    }
    const filter = document.getElementById("seg-filter");
    if (filter) {
      // Find in this item: segments whose Danish text or translation lack the words are hidden.
      filter.addEventListener("input", function () {
        const needle = filter.value.trim().toLowerCase();
        document.querySelectorAll(".seg").forEach(function (article) {
          const source = article.querySelector(".source-text");
          const editor = article.querySelector(".seg-editor");
          const hay = ((source ? source.textContent : "") + " " + (editor ? editor.textContent : "")).toLowerCase();
          article.classList.toggle("filtered-out", needle !== "" && !hay.includes(needle));
        });
      });
    }
    window.addEventListener("beforeunload", function (event) {
      if (!leaving && document.querySelector(".seg-form.dirty")) event.preventDefault();
    });
  });
})();
