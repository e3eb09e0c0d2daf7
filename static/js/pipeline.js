// Pipeline board: drag a deal card onto another column to move the deal to that stage.
// The server answers with the re-rendered board (counts and per-currency totals included),
// so nothing is computed here. Without JavaScript, each card's move menu does the same.
(function () {
  "use strict";

  const errorBox = document.getElementById("pipeline-error");
  let dragged = null;
  let origin = null;

  function csrfToken() {
    const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    return headers["X-CSRFToken"] || "";
  }

  // Events may target a text node (dragging selected text); look from its element.
  function elementOf(node) {
    return node instanceof Element ? node : node && node.parentElement;
  }

  function columnOf(node) {
    const element = elementOf(node);
    return element ? element.closest("[data-stage]") : null;
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function putBack(card) {
    origin.parent.insertBefore(card, origin.next);
  }

  // The card menus are <details> elements: one open at a time, closed by a click elsewhere
  // or by Escape (which gives the focus back to the menu's button).
  function closeMenus(except) {
    document.querySelectorAll("details.cl-move-menu[open]").forEach((menu) => {
      if (menu !== except) menu.removeAttribute("open");
    });
  }

  document.addEventListener("click", (event) => {
    const element = elementOf(event.target);
    closeMenus(element ? element.closest("details.cl-move-menu") : null);
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const element = elementOf(document.activeElement);
    const menu = element ? element.closest("details.cl-move-menu[open]") : null;
    closeMenus(null);
    if (menu) menu.querySelector("summary").focus();
  });

  document.addEventListener("dragstart", (event) => {
    const element = elementOf(event.target);
    const card = element ? element.closest("[data-deal-card]") : null;
    if (!card) return;
    dragged = card;
    origin = { parent: card.parentNode, next: card.nextSibling };
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.moveUrl);
    card.classList.add("opacity-50");
  });

  document.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("opacity-50");
    document.querySelectorAll(".cl-drop-target").forEach((column) => {
      column.classList.remove("cl-drop-target");
    });
    dragged = null;
  });

  document.addEventListener("dragover", (event) => {
    const column = columnOf(event.target);
    if (!column || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    column.classList.add("cl-drop-target");
  });

  document.addEventListener("dragleave", (event) => {
    const column = columnOf(event.target);
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("cl-drop-target");
  });

  document.addEventListener("drop", async (event) => {
    const column = columnOf(event.target);
    if (!column || !dragged) return;
    event.preventDefault();
    column.classList.remove("cl-drop-target");
    const card = dragged;
    if (columnOf(card) === column) return;
    // Show the move at once; the server's board replaces it a moment later.
    column.querySelector("[data-cards]").prepend(card);
    errorBox.hidden = true;
    try {
      const response = await fetch(card.dataset.moveUrl + window.location.search, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
        body: new URLSearchParams({ stage: column.dataset.stage }),
      });
      if (!response.ok) {
        putBack(card);
        const message = response.status === 400 ? await response.text() : "";
        showError(message || "The deal could not be moved. Reload the page and try again.");
        return;
      }
      htmx.swap("#pipeline-board", await response.text(), { swapStyle: "outerHTML" });
    } catch (error) {
      putBack(card);
      showError("The deal could not be moved: the server did not answer. Try again.");
    }
  });
})();
