// The rule setting form (templates/rule.html): show the picker of the scope kind chosen, say
// what holds at the scope picked (GET /rules/{id}/effective) and fill in what is set there,
// filter the departments, search the items as they are typed, check each number against its
// allowed range with a Chinese message beside the field, and ask before deleting a setting.
// Without this script the form still works: every picker shows and the server checks all.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Deleting a setting: the form (inside its <details>) asks once more.
  document.querySelectorAll("form[data-confirm]").forEach(function (del) {
    del.addEventListener("submit", function (event) {
      var reason = del.querySelector("[name=reason]");
      var error = del.querySelector(".field-error");
      if (reason && !reason.value.trim()) {
        event.preventDefault();
        if (error) { error.textContent = "请填写删除理由（会记入变更记录）"; }
        reason.setAttribute("aria-invalid", "true");
        reason.focus();
        return;
      }
      if (!window.confirm(del.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  var form = document.getElementById("rule-form");
  if (!form) { return; }
  var q = function (sel) { return form.querySelector(sel); };
  var kinds = form.querySelectorAll("input[name=scope_kind]");
  var picks = form.querySelectorAll(".pick[data-kind]");

  function kind() {
    var chosen = form.querySelector("input[name=scope_kind]:checked");
    return chosen ? chosen.value : "all";
  }

  function showPick() {
    var k = kind();
    picks.forEach(function (p) { p.hidden = p.getAttribute("data-kind") !== k; });
  }

  // -- messages beside the fields ------------------------------------------------------------
  function say(id, text) {
    var el = document.getElementById(id);
    if (el) { el.textContent = text || ""; }
  }

  function numberProblem(input) {
    var text = input.value.trim();
    if (text === "") { return input.validity.badInput ? "请输入数字" : ""; }
    var min = Number(input.getAttribute("min"));
    var max = Number(input.getAttribute("max"));
    var whole = input.getAttribute("data-kind") === "int";
    var n = Number(text);
    var range = "应为 " + min + " 到 " + max + " 之间的" + (whole ? "整数" : "数");
    var unit = input.parentNode.querySelector(".unit");
    if (unit) { range += "（单位：" + unit.textContent.trim() + "）"; }
    if (!isFinite(n) || (whole && Math.floor(n) !== n)) { return range + "，收到“" + text + "”"; }
    if (n < min || n > max) { return range + "，收到“" + text + "”，超出允许范围"; }
    return "";
  }

  function checkNumber(input) {
    var problem = numberProblem(input);
    say("e-" + input.id.replace(/^f-/, ""), problem);
    input.setAttribute("aria-invalid", problem ? "true" : "false");
    input.setCustomValidity(problem);
    return !problem;
  }

  form.querySelectorAll("input[type=number]").forEach(function (input) {
    input.addEventListener("input", function () { checkNumber(input); });
  });
  form.querySelectorAll("#f-enabled, #f-level, [name^='p.']").forEach(function (input) {
    var touched = function () { input.setAttribute("data-touched", "1"); };
    input.addEventListener("input", touched);
    input.addEventListener("change", touched);
  });

  // -- what holds at the scope picked --------------------------------------------------------
  function scopeQuery() {
    var k = kind();
    var params = new URLSearchParams({ scope_kind: k });
    if (k !== "all") {
      var field = q("[name=" + k + "]");
      if (!field || !field.value.trim()) { return null; }
      params.set(k, field.value.trim());
    }
    return params;
  }

  function fill(answer) {
    say("e-scope", "");
    say("scope-title", answer.title);
    say("scope-own", answer.has_setting ? "（该范围已有单独调整，已填入下方）" : "");
    Object.keys(answer.fields).forEach(function (name) {
      var f = answer.fields[name];
      var now = form.querySelector("[data-now='" + name + "']");
      if (now) {
        now.textContent = "当前：" + (f["default"] ? f.shown : f.text + "（" + f.source + "的设置）");
      }
      var input = name === "enabled" || name === "level" ? q("#f-" + name) : q("[name='p." + name + "']");
      // what is set at the scope fills a field, unless the user has changed it meanwhile
      if (input && !input.hasAttribute("data-touched")) {
        input.value = f.own || "";
        if (input.type === "number") { checkNumber(input); }
      }
    });
  }

  var asked = 0;
  function refresh() {
    var params = scopeQuery();
    if (!params) { return; }
    var mine = ++asked;
    fetch(form.getAttribute("data-effective") + "?" + params.toString(), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (r) { return r.json(); }).then(function (answer) {
      if (mine !== asked) { return; }
      if (answer.ok) { fill(answer); } else { say("e-scope", answer.message); }
    }).catch(function () {});
  }

  kinds.forEach(function (radio) {
    radio.addEventListener("change", function () { showPick(); refresh(); });
  });
  ["#f-region", "#f-department"].forEach(function (sel) {
    var el = q(sel);
    if (el) { el.addEventListener("change", refresh); }
  });

  // -- departments: a filter over the list ---------------------------------------------------
  var filter = q("#f-department-filter");
  var departments = q("#f-department");
  if (filter && departments) {
    filter.hidden = false;
    filter.addEventListener("input", function () {
      var needle = filter.value.trim().toLowerCase();
      Array.prototype.forEach.call(departments.options, function (option, i) {
        option.hidden = i > 0 && needle !== "" && option.textContent.toLowerCase().indexOf(needle) < 0;
      });
    });
  }

  // -- items: searched on the server as they are typed ----------------------------------------
  var item = q("#f-item");
  var list = document.getElementById("item-options");
  var timer = null;
  if (item && list) {
    item.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var text = item.value.trim();
        var picked = Array.prototype.some.call(list.options, function (o) { return o.value === text; });
        if (picked) { refresh(); return; }
        if (!text) { return; }
        fetch(form.getAttribute("data-items") + "?q=" + encodeURIComponent(text), {
          credentials: "same-origin", headers: { Accept: "application/json" }
        }).then(function (r) { return r.ok ? r.json() : []; }).then(function (found) {
          list.textContent = "";
          found.forEach(function (i) {
            var option = document.createElement("option");
            option.value = i.label;
            list.appendChild(option);
          });
        }).catch(function () {});
      }, 250);
    });
    item.addEventListener("change", refresh);
  }

  // -- before sending: every field checked, the reason given ---------------------------------
  form.addEventListener("submit", function (event) {
    var ok = true;
    form.querySelectorAll("input[type=number]").forEach(function (input) {
      if (!checkNumber(input)) { ok = false; }
    });
    var reason = q("#f-reason");
    if (reason && !reason.value.trim()) {
      say("e-reason", "请填写理由：为什么这样调整（会记入变更记录）");
      reason.setAttribute("aria-invalid", "true");
      ok = false;
    } else if (reason) {
      say("e-reason", "");
      reason.setAttribute("aria-invalid", "false");
    }
    if (kind() !== "all") {
      var picked = q("[name=" + kind() + "]");
      if (!picked || !picked.value.trim()) {
        say("e-scope", "请选择要调整的" + { region: "行政区划", department: "部门", item: "事项" }[kind()]);
        ok = false;
      }
    }
    if (!ok) {
      event.preventDefault();
      var first = form.querySelector("[aria-invalid=true]");
      if (first) { first.focus(); }
    }
  });

  showPick();
})();
