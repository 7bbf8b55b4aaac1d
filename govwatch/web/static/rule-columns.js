// The custom-rule form on /rules (templates/rules.html): each column of 可用的列 is listed by
// its Chinese name; its 插入 button writes the column's identifier (what the expression must
// say) into 条件表达式 at the cursor, with a space on either side where needed, and the form's
// check runs as if it had been typed. Without this script the names' hover still shows it.
(function () {
  "use strict";
  var expression = document.getElementById("c-expr");
  if (!expression) { return; }
  document.querySelectorAll("button.insert-column[data-column]").forEach(function (button) {
    button.addEventListener("click", function () {
      var column = button.getAttribute("data-column");
      var text = expression.value;
      var start = expression.selectionStart === null ? text.length : expression.selectionStart;
      var end = expression.selectionEnd === null ? text.length : expression.selectionEnd;
      var before = text.slice(0, start);
      var after = text.slice(end);
      var word = (before && !/\s$/.test(before) ? " " : "") + column +
        (after && !/^\s/.test(after) ? " " : "");
      expression.value = before + word + after;
      var caret = before.length + word.length;
      expression.focus();
      expression.setSelectionRange(caret, caret);
      expression.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });
})();
