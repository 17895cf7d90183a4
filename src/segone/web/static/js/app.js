/* Segment of One — progressive enhancement. Every form works without this file; with it:
 *  - forms marked data-swap send with fetch and swap parts of the page (one tap, no reload);
 *  - forms marked data-draft keep what is typed on this device until it is saved;
 *  - forms marked data-enhance="navigate" say so plainly when the connection drops, and keep the draft.
 */
(function () {
  "use strict";

  var DRAFT_PREFIX = "segone:draft:";
  var DRAFT_MAX_AGE_MS = 14 * 24 * 3600 * 1000;
  var pushed = false; // this page's content was swapped in under a pushed address

  function $all(root, selector) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) found.unshift(root);
    return found;
  }

  function storage() {
    try {
      var probe = "segone:probe";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (e) {
      return null;
    }
  }

  /* ------------------------------------------------------------------------------ sending forms */

  function formBody(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    return new URLSearchParams(data);
  }

  function setBusy(form, busy) {
    $all(form, "button[type=submit], button:not([type])").forEach(function (button) {
      button.disabled = busy;
      if (busy) button.setAttribute("aria-busy", "true");
      else button.removeAttribute("aria-busy");
    });
  }

  function post(form, submitter) {
    return fetch(form.action, {
      method: "POST",
      body: formBody(form, submitter),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    });
  }

  function parse(html) {
    return new DOMParser().parseFromString(html, "text/html");
  }

  function replaceMain(doc) {
    var fresh = doc.getElementById("main");
    var current = document.getElementById("main");
    if (!fresh || !current) return false;
    current.replaceWith(fresh);
    document.title = doc.title;
    init(fresh);
    window.scrollTo(0, 0);
    return true;
  }

  function toast(message) {
    var area = document.getElementById("flash");
    if (!area) {
      window.alert(message);
      return;
    }
    var p = document.createElement("p");
    p.className = "flash form-error";
    p.setAttribute("role", "alert");
    p.textContent = message;
    area.innerHTML = "";
    area.appendChild(p);
    area.scrollIntoView({ block: "nearest" });
  }

  var OFFLINE_MESSAGE = "No connection right now. Nothing was lost: try again when you are back online.";

  function swapSubmit(form, submitter) {
    var ids = (form.getAttribute("data-swap") || "").split(/\s+/).filter(Boolean);
    setBusy(form, true);
    post(form, submitter)
      .then(function (response) {
        return response.text().then(function (html) {
          var doc = parse(html);
          var complete = ids.every(function (id) {
            return doc.getElementById(id) && document.getElementById(id);
          });
          if (!complete) {
            // Signed out, a form that expired, or another page: show what the server said.
            if (response.redirected) window.location.assign(response.url);
            else if (!replaceMain(doc)) window.location.reload();
            return;
          }
          var pairs = ids.map(function (id) {
            return [document.getElementById(id), doc.getElementById(id)];
          });
          pairs.forEach(function (pair) {
            // Skip a part already swapped in as the child of another (it now lives in this document).
            if (!pair[0].isConnected || pair[1].ownerDocument === document) return;
            pair[0].replaceWith(pair[1]);
            init(pair[1]);
          });
          // Keep the reader's place: focus what just changed (the button pressed is gone now).
          var marked = document.querySelector(".just-circled, .just-added, [aria-invalid=true], .form-error");
          if (marked) {
            if (!marked.matches("input, select, textarea")) marked.setAttribute("tabindex", "-1");
            marked.focus({ preventScroll: true });
            marked.scrollIntoView({ block: "nearest", behavior: "smooth" });
          }
        });
      })
      .catch(function () {
        setBusy(form, false);
        toast(OFFLINE_MESSAGE);
      });
  }

  function navigateSubmit(form, submitter) {
    var status = form.querySelector("[data-send-status]");
    saveDraft(form);
    setBusy(form, true);
    if (status) {
      status.hidden = false;
      status.textContent = "Saving…";
    }
    post(form, submitter)
      .then(function (response) {
        return response.text().then(function (html) {
          // Show the page the server answered with (it holds the one-time messages), at its address.
          if (response.redirected) {
            window.history.pushState({ segone: true }, "", response.url);
            pushed = true;
          }
          if (!replaceMain(parse(html))) window.location.assign(response.url);
        });
      })
      .catch(function () {
        setBusy(form, false);
        if (status) {
          status.hidden = false;
          status.textContent =
            "No connection: your encounter is kept on this device. Press Save again when you are back online.";
        }
      });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) return;
    if (!window.fetch || !window.URLSearchParams) return;
    if (form.hasAttribute("data-swap")) {
      event.preventDefault();
      swapSubmit(form, event.submitter);
    } else if (form.getAttribute("data-enhance") === "navigate") {
      event.preventDefault();
      navigateSubmit(form, event.submitter);
    }
  });

  /* ------------------------------------------------------------------------------------ drafts */

  function draftKey(form) {
    return DRAFT_PREFIX + form.getAttribute("data-draft");
  }

  function saveDraft(form) {
    var store = storage();
    if (!store) return;
    var fields = {};
    var checks = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "submit" || el.type === "button") return;
      if (el.name === "csrf_token" || el.name === "tz_offset") return;
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) checks.push(el.name + "=" + el.value);
        return;
      }
      (fields[el.name] = fields[el.name] || []).push(el.value);
    });
    store.setItem(draftKey(form), JSON.stringify({ savedAt: Date.now(), fields: fields, checks: checks }));
  }

  function readDraft(form) {
    var store = storage();
    if (!store) return null;
    try {
      var draft = JSON.parse(store.getItem(draftKey(form)) || "null");
      if (!draft || Date.now() - draft.savedAt > DRAFT_MAX_AGE_MS) return null;
      return draft;
    } catch (e) {
      return null;
    }
  }

  function restoreDraft(form, draft) {
    var texts = (draft.fields.fact_text || []).length;
    while (form.querySelectorAll("[data-fact-row]").length < texts) addFactRow(form);
    Object.keys(draft.fields).forEach(function (name) {
      var elements = $all(form, '[name="' + name + '"]').filter(function (el) {
        return el.type !== "hidden" || name === "listening_touched";
      });
      draft.fields[name].forEach(function (value, i) {
        if (elements[i]) elements[i].value = value;
      });
    });
    $all(form, "input[type=checkbox], input[type=radio]").forEach(function (el) {
      el.checked = draft.checks.indexOf(el.name + "=" + el.value) !== -1;
    });
    updateListening(form);
  }

  function initDraft(form) {
    var draft = readDraft(form);
    var note = form.querySelector("[data-draft-note]");
    var hasErrors = form.querySelector(".form-error, .field-error");
    if (draft && !hasErrors) {
      restoreDraft(form, draft);
      if (note) note.hidden = false;
    }
    var timer = null;
    var later = function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        saveDraft(form);
      }, 250);
    };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    var discard = form.querySelector("[data-draft-discard]");
    if (discard) {
      discard.addEventListener("click", function () {
        var store = storage();
        if (store) store.removeItem(draftKey(form));
        window.location.reload();
      });
    }
  }

  function clearDrafts(root) {
    var store = storage();
    if (!store) return;
    $all(root, "[data-clear-draft]").forEach(function (el) {
      store.removeItem(DRAFT_PREFIX + el.getAttribute("data-clear-draft"));
    });
  }

  /* --------------------------------------------------------------------------- encounter capture */

  function addFactRow(form) {
    var rows = form.querySelector("[data-fact-rows]");
    var last = rows && rows.querySelector("[data-fact-row]:last-child");
    if (!last) return null;
    var copy = last.cloneNode(true);
    var n = rows.querySelectorAll("[data-fact-row]").length + 1;
    $all(copy, "input, select").forEach(function (el) {
      el.value = "";
      var base = el.id.replace(/-\d+$/, "");
      el.id = base + "-" + n;
    });
    $all(copy, "label").forEach(function (label) {
      label.htmlFor = label.htmlFor.replace(/-\d+$/, "-" + n);
    });
    rows.appendChild(copy);
    return copy;
  }

  function updateListening(form) {
    var slider = form.querySelector("[data-listening]");
    var output = form.querySelector("[data-listening-output]");
    if (slider && output) output.textContent = slider.value + "% listening";
  }

  function initCapture(form) {
    var slider = form.querySelector("[data-listening]");
    var touched = form.querySelector("[data-listening-touched]");
    if (slider) {
      slider.addEventListener("input", function () {
        if (touched) touched.value = "1";
        updateListening(form);
      });
    }
    var add = form.querySelector("[data-add-fact-row]");
    if (add) {
      add.addEventListener("click", function () {
        var row = addFactRow(form);
        if (row) row.querySelector("input").focus();
      });
    }
    $all(form, "[data-duration]").forEach(function (chip) {
      chip.addEventListener("click", function () {
        var input = form.querySelector('[name="duration_minutes"]');
        input.value = chip.getAttribute("data-duration");
        input.dispatchEvent(new Event("input", { bubbles: true }));
      });
    });
    var tz = form.querySelector("[data-tz-offset]");
    if (tz) {
      var setOffset = function () {
        var when = form.querySelector('[name="occurred_at"]');
        var at = when && when.value ? new Date(when.value) : new Date();
        tz.value = String(isNaN(at.getTime()) ? new Date().getTimezoneOffset() : at.getTimezoneOffset());
      };
      setOffset();
      form.addEventListener("change", setOffset);
      form.addEventListener("submit", setOffset, true);
    }
  }

  /* ------------------------------------------------------------------------------ the easel sheet */

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var pick = target.closest("[data-pick-category]");
    if (pick) {
      var select = document.getElementById("fact-category");
      var text = document.getElementById("fact-text");
      if (select && text) {
        select.value = pick.getAttribute("data-pick-category");
        text.scrollIntoView({ block: "center", behavior: "smooth" });
        text.focus({ preventScroll: true });
      }
      return;
    }
    var back = target.closest("[data-back]");
    if (back && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });

  /* ------------------------------------------------------------------------------------- general */

  function localTimes(root) {
    if (!window.Intl) return;
    var moment = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    var day = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
    $all(root, "time[data-local]").forEach(function (el) {
      var at = new Date(el.getAttribute("datetime"));
      if (isNaN(at.getTime())) return;
      el.textContent = (el.getAttribute("data-local") === "day" ? day : moment).format(at);
    });
  }

  // A part of the page that costs the server more than the page itself (a chart computed per customer)
  // comes after it: the element with the id in data-load-part, from the page at data-load, replaces the
  // placeholder (a link to that page, which stays if the part cannot be loaded).
  function loadParts(root) {
    $all(root, "[data-load]").forEach(function (slot) {
      fetch(slot.getAttribute("data-load"), {
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      })
        .then(function (response) {
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          var part = html && parse(html).getElementById(slot.getAttribute("data-load-part"));
          if (!part || !slot.isConnected) return;
          part.classList.add("loaded-part");
          slot.replaceWith(part);
        })
        .catch(function () {});
    });
  }

  function init(root) {
    localTimes(root);
    loadParts(root);
    clearDrafts(root);
    $all(root, "form[data-draft]").forEach(function (form) {
      initCapture(form);
      initDraft(form);
    });
  }

  function offlineBanner() {
    var banner = document.getElementById("offline-banner");
    if (banner) banner.hidden = navigator.onLine !== false;
  }

  window.addEventListener("popstate", function (event) {
    // Pages shown by navigateSubmit have no cached copy: going back or forth loads them afresh.
    if (pushed || (event.state && event.state.segone)) window.location.reload();
  });

  window.addEventListener("online", offlineBanner);
  window.addEventListener("offline", offlineBanner);

  document.addEventListener("DOMContentLoaded", function () {
    offlineBanner();
    init(document.body);
  });
})();
