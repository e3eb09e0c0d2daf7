// Small behaviours every staff page may use, declared in the markup with data attributes so
// that pages carry no inline script (the Content-Security-Policy allows none):
//   <form data-confirm="Really?">   asks before submitting
//   <input data-select-on-click>    selects its whole value when clicked
//   <button data-copy="#some-input"> copies that input's value and says so
(function () {
  "use strict";

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  document.addEventListener("click", (event) => {
    if (!(event.target instanceof Element)) return;
    const selectable = event.target.closest("[data-select-on-click]");
    if (selectable instanceof HTMLInputElement) selectable.select();
    const copy = event.target.closest("[data-copy]");
    if (copy) {
      const source = document.querySelector(copy.dataset.copy);
      if (source instanceof HTMLInputElement) {
        navigator.clipboard.writeText(source.value).then(() => {
          copy.textContent = "Copied";
        });
      }
    }
  });
})();
