// Review app, beside each segment: learned corrections (click one, or Alt+C in the editor, to apply
// it), memory matches (click one, or Alt+1…3 in the editor, to insert it), glossary hints, and after a save the offer to apply the same translation to identical Danish
// segments here and in other open items. Fetched after the page loads, so the page is as fast as
// before; without JavaScript none of this shows (the QA flags on the page still name glossary misses).
// Every HTML string used here (match.html, match.diff, applied.html) is built and escaped by the
// server (syndication/web/editor.py); everything else goes in as text.
(function () {
  "use strict";

  function itemId() {
    const item = document.querySelector("article.item");
    return item ? item.dataset.item : null;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function panelOf(article) {
    let panel = article.querySelector(".assist");
    if (!panel) {
      panel = el("div", "assist");
      panel.setAttribute("aria-label", "Memory and glossary");
      const flags = article.querySelector(".flags");
      article.insertBefore(panel, flags);
    }
    return panel;
  }

  function insertMatch(article, match) {
    const form = article.querySelector(".seg-form");
    const editor = form.querySelector(".seg-editor");
    const status = form.querySelector(".seg-status");
    if (!match.insertable) {
      status.textContent = "This match has other placeholders than the Danish here: copy its words by hand.";
      status.classList.add("error");
      return;
    }
    editor.innerHTML = match.html;
    form.querySelector(".seg-raw").value = match.target;
    // review.js marks the segment as edited (unsaved, kept as a draft) on input.
    editor.dispatchEvent(new Event("input", { bubbles: true }));
    editor.focus();
    status.textContent = "Inserted the " + match.score + " % memory match: check it, then save.";
    status.classList.remove("error");
  }

  function renderMemory(article, matches) {
    const box = el("div", "memory");
    box.append(el("p", "assist-label", "Memory"));
    const list = el("ol", "memory-list");
    matches.forEach(function (match, index) {
      const li = el("li", "memory-match" + (match.score === 100 ? " memory-exact" : ""));
      li.dataset.score = String(match.score);
      const button = el("button", "memory-insert", (match.insertable ? "Insert" : "Cannot insert") + " (Alt+" + (index + 1) + ")");
      button.type = "button";
      button.disabled = !match.insertable;
      if (!match.insertable) button.title = "Its placeholders do not map to this segment's";
      button.addEventListener("click", function () { insertMatch(article, match); });
      const score = el("span", "memory-score", match.score + " %");
      const target = el("div", "memory-target");
      target.innerHTML = match.html;
      li.append(score, " ", button, target);
      if (match.score < 100) {
        const diff = el("div", "memory-diff");
        diff.innerHTML = match.diff;
        diff.title = "The Danish of the match (struck out) against this segment's (underlined)";
        li.append(diff);
      }
      if (match.by) li.append(el("small", "memory-by", "by " + match.by));
      list.append(li);
    });
    box.append(list);
    article._memory = matches;
    return box;
  }

  function renderGlossary(terms) {
    const box = el("div", "glossary");
    box.append(el("p", "assist-label", "Glossary"));
    const list = el("ul", "glossary-list");
    terms.forEach(function (term) {
      const li = el("li", "glossary-term" + (term.present ? " glossary-ok" : " glossary-missing"));
      li.append(el("span", "glossary-da", term.term), " → ");
      li.append(el("strong", null, term.translation || term.term + " (kept as written)"));
      if (!term.present) li.append(" ", el("small", null, "missing in the translation"));
      list.append(li);
    });
    box.append(list);
    return box;
  }

  // ------------------------------------------------------------------------ learned corrections

  function phrasePattern(phrase) {
    // Whole words, any spacing, any case: the same rule as syndication/review/corrections.py.
    const words = phrase.split(/\s+/).filter(Boolean).map(function (w) { return w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); });
    return new RegExp("(?<![\\p{L}\\p{N}_])" + words.join("\\s+") + "(?![\\p{L}\\p{N}_])", "giu");
  }

  function casedLike(found, replacement) {
    if (found.length > 1 && found === found.toUpperCase() && found !== found.toLowerCase()) return replacement.toUpperCase();
    if (found[0] !== found[0].toLowerCase()) return replacement[0].toUpperCase() + replacement.slice(1);
    return replacement;
  }

  // Replace the wrong words in the editor's text (never inside a placeholder chip); true if any.
  function applyCorrection(article, correction) {
    const form = article.querySelector(".seg-form");
    const editor = form.querySelector(".seg-editor");
    const status = form.querySelector(".seg-status");
    const walker = document.createTreeWalker(editor, NodeFilter.SHOW_TEXT, {
      acceptNode: function (node) {
        return node.parentElement && node.parentElement.closest(".chip") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
      },
    });
    let changed = 0;
    const pattern = phrasePattern(correction.wrong);
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    nodes.forEach(function (node) {
      const text = node.nodeValue.replace(pattern, function (found) { changed += 1; return casedLike(found, correction.right); });
      if (changed) node.nodeValue = text;
    });
    const chip = article.querySelector('.correction[data-id="' + correction.id + '"]');
    if (!changed) {
      status.textContent = "“" + correction.wrong + "” is no longer in the translation.";
      status.classList.add("error");
      return false;
    }
    if (chip) chip.classList.add("correction-applied");
    editor.dispatchEvent(new Event("input", { bubbles: true }));
    editor.focus();
    status.textContent = "Changed “" + correction.wrong + "” to “" + correction.right + "”: check it, then save.";
    status.classList.remove("error");
    return true;
  }

  function renderCorrections(article, corrections) {
    const box = el("div", "corrections");
    box.append(el("p", "assist-label", "Learned corrections"));
    const list = el("ul", "corrections-list");
    corrections.forEach(function (c, index) {
      const li = el("li", "correction");
      li.dataset.id = String(c.id);
      li.append("editors changed ", el("em", "correction-wrong", c.wrong), " to ", el("em", "correction-right", c.right), " " + c.uses + " time" + (c.uses === 1 ? "" : "s") + " for ", el("em", "correction-term", c.term));
      if (c.declined) li.append(el("small", "correction-kept", " (kept as the machine wrote it " + c.declined + " time" + (c.declined === 1 ? "" : "s") + ")"));
      if (c.auto) li.append(el("small", "correction-auto", " · applied before review from now on"));
      li.append(" ");
      const button = el("button", "correction-apply", index === 0 ? "Apply (Alt+C)" : "Apply");
      button.type = "button";
      button.addEventListener("click", function () { applyCorrection(article, c); });
      li.append(button);
      list.append(li);
    });
    box.append(list);
    article._corrections = corrections;
    return box;
  }

  async function loadAssist() {
    const tid = itemId();
    if (!tid) return;
    let data;
    try {
      const response = await fetch("/items/" + tid + "/assist", { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      data = await response.json();
    } catch (err) {
      return; // help, not the work: the page works without it
    }
    Object.entries(data.segments || {}).forEach(function (entry) {
      const article = document.getElementById("seg-" + entry[0]);
      if (!article) return;
      const panel = panelOf(article);
      panel.replaceChildren();
      if (entry[1].corrections) panel.append(renderCorrections(article, entry[1].corrections));
      if (entry[1].memory) panel.append(renderMemory(article, entry[1].memory));
      if (entry[1].glossary) panel.append(renderGlossary(entry[1].glossary));
    });
  }

  // ------------------------------------------------------------------------------ propagation

  function describe(candidate, here) {
    if (String(candidate.translation_id) === here) return "segment " + candidate.number + " of this item";
    return "segment " + candidate.number + " of “" + candidate.title + "” (item " + candidate.translation_id + ")";
  }

  function advanceItemVersion(version, steps) {
    document.querySelectorAll('input[name="item_version"]').forEach(function (input) {
      if (parseInt(input.value, 10) + steps === version) input.value = String(version);
    });
  }

  function showApplied(applied) {
    const here = itemId();
    const mine = applied.filter(function (a) { return String(a.translation_id) === here; });
    mine.forEach(function (a) {
      const article = document.getElementById("seg-" + a.key);
      if (!article) return;
      const form = article.querySelector(".seg-form");
      const editor = form.querySelector(".seg-editor");
      editor.innerHTML = a.html;
      editor.dataset.saved = editor.innerHTML;
      form.querySelector('input[name="version"]').value = String(a.version);
      form.querySelector(".seg-raw").value = a.text;
      const origin = article.querySelector(".origin");
      if (origin) {
        origin.textContent = a.origin;
        origin.className = "origin origin-" + a.origin;
      }
      const status = form.querySelector(".seg-status");
      status.textContent = "Filled from the identical segment you saved: have a look.";
      status.classList.remove("error");
    });
    if (mine.length) advanceItemVersion(mine[mine.length - 1].item_version, mine.length);
  }

  async function offerPropagation(article, form) {
    const tid = itemId();
    const key = article.dataset.key;
    let candidates = [];
    try {
      const response = await fetch("/items/" + tid + "/segments/" + encodeURIComponent(key) + "/propagation", {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      });
      if (!response.ok) return;
      candidates = (await response.json()).candidates || [];
    } catch (err) {
      return;
    }
    const old = article.querySelector(".propagate");
    if (old) old.remove();
    if (!candidates.length) return;
    const box = el("form", "propagate");
    box.method = "post";
    box.action = "/items/" + tid + "/segments/" + encodeURIComponent(key) + "/propagate";
    const token = form.querySelector('input[name="csrf_token"]');
    const csrf = el("input");
    csrf.type = "hidden";
    csrf.name = "csrf_token";
    csrf.value = token ? token.value : "";
    box.append(csrf, el("p", "assist-label", "The same Danish is in " + candidates.length + " more open segment(s). Apply this translation to:"));
    const list = el("ul", "propagate-list");
    candidates.forEach(function (c) {
      const li = el("li");
      const label = el("label");
      const box2 = el("input");
      box2.type = "checkbox";
      box2.name = "target";
      box2.value = c.translation_id + ":" + c.key + ":" + c.version;
      box2.checked = true;
      label.append(box2, " " + describe(c, tid));
      li.append(label);
      list.append(li);
    });
    const apply = el("button", "propagate-apply", "Apply to the selected");
    apply.type = "submit";
    const skip = el("button", "propagate-skip", "Not now");
    skip.type = "button";
    skip.addEventListener("click", function () { box.remove(); });
    const result = el("output", "propagate-status");
    box.append(list, apply, " ", skip, " ", result);
    box.addEventListener("submit", async function (event) {
      event.preventDefault();
      apply.disabled = true;
      try {
        const response = await fetch(box.action, {
          method: "POST", body: new FormData(box), headers: { Accept: "application/json" }, credentials: "same-origin",
        });
        const data = await response.json();
        if (!response.ok) throw new Error(data.error || "HTTP " + response.status);
        showApplied(data.applied || []);
        let text = "Applied to " + data.applied.length + " segment(s).";
        if (data.refused && data.refused.length) text += " Not applied: " + data.refused.map(function (r) { return r.reason; }).join("; ");
        result.textContent = text;
        list.remove();
        apply.remove();
        skip.textContent = "Close";
      } catch (err) {
        result.textContent = "Not applied: " + (err && err.message ? err.message : "the server cannot be reached") + ".";
        apply.disabled = false;
      }
    });
    article.insertBefore(box, article.querySelector(".flags"));
  }

  document.addEventListener("DOMContentLoaded", function () {
    loadAssist();
    // review.js tells when a save went through.
    document.addEventListener("segment-saved", function (event) {
      const form = event.target.closest(".seg-form");
      const article = event.target.closest(".seg");
      if (form && article) offerPropagation(article, form);
    });
    document.addEventListener("keydown", function (event) {
      if (!event.altKey || event.ctrlKey || event.metaKey) return;
      const editor = event.target.closest ? event.target.closest(".seg-editor") : null;
      if (editor && (event.key === "c" || event.key === "C" || event.code === "KeyC")) {
        // Alt+C: the next learned correction of this segment not applied yet.
        const here = editor.closest(".seg");
        const pending = (here && here._corrections || []).filter(function (c) {
          const chip = here.querySelector('.correction[data-id="' + c.id + '"]');
          return !(chip && chip.classList.contains("correction-applied"));
        });
        if (!pending.length) return;
        event.preventDefault();
        applyCorrection(here, pending[0]);
        return;
      }
      if (!editor || !/^[1-3]$/.test(event.key)) return;
      const article = editor.closest(".seg");
      const matches = article && article._memory;
      const match = matches ? matches[parseInt(event.key, 10) - 1] : null;
      if (!match) return;
      event.preventDefault();
      insertMatch(article, match);
    });
  });
})();
