// The line editor of deals, estimates and invoices (lines/_lines_editor.html): add and remove
// rows, and fill a row in from the chosen service.
// No arithmetic here: #line-editor posts the rows to the server (hx-post) for the totals.
(function () {
  "use strict";

  const editor = document.getElementById("line-editor");
  if (!editor) return;
  const table = editor.querySelector("[data-lines]");
  const emptyNote = editor.querySelector("[data-lines-empty]");
  const template = document.getElementById("line-template");
  let nextKey = Number(editor.dataset.nextKey);

  function field(line, name) {
    return line.querySelector(`[name$="-${name}"]`);
  }

  function linesChanged() {
    emptyNote.hidden = table.querySelector("[data-line]") !== null;
    htmx.trigger(editor, "lines-changed");
  }

  function addLine() {
    table.insertAdjacentHTML("beforeend", template.innerHTML.replaceAll("__key__", String(nextKey)));
    nextKey += 1;
    field(table.lastElementChild, "service").focus();
    linesChanged();
  }

  // Fill only what the service defines; its price only when it is in the client's currency
  // (the option then carries data-price).
  function fillFromService(select) {
    const option = select.selectedOptions[0];
    if (!option || !option.value) return;
    const line = select.closest("[data-line]");
    field(line, "description").value = option.dataset.description;
    field(line, "unit").value = option.dataset.unit;
    if (option.dataset.price !== undefined) field(line, "unit_price").value = option.dataset.price;
    const taxes = option.dataset.taxes ? option.dataset.taxes.split(",") : [];
    field(line, "tax_1").value = taxes[0] || "";
    field(line, "tax_2").value = taxes[1] || "";
    field(line, "recurrence").value = option.dataset.recurrence;
    linesChanged();
  }

  document.addEventListener("click", (event) => {
    if (!(event.target instanceof Element)) return;
    if (event.target.closest("[data-add-line]")) {
      addLine();
      return;
    }
    const remove = event.target.closest("[data-remove-line]");
    if (remove) {
      remove.closest("[data-line]").remove();
      linesChanged();
    }
  });

  editor.addEventListener("change", (event) => {
    if (event.target instanceof HTMLSelectElement && event.target.name.endsWith("-service")) {
      fillFromService(event.target);
    }
  });
})();
