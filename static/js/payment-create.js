// The record-payment form (payments/payment_create.html).
// Re-spreads the amount over the invoices, oldest first, as a convenience only: the
// server checks every amount when the form is submitted.
(function () {
  "use strict";

  const form = document.querySelector("[data-payment-form]");
  if (!form) return;
  const digits = Number(form.dataset.digits);
  const scale = 10 ** digits;
  const toMinor = (text) => {
    // Thousands may be grouped with commas ("1,234.50"), as the server accepts.
    const value = Number(String(text).trim().replaceAll(",", ""));
    return Number.isFinite(value) ? Math.round(value * scale) : null;
  };
  const show = (minor) => (minor / scale).toFixed(digits);
  const amount = form.querySelector("[name=amount]");
  const rows = [...form.querySelectorAll("[data-allocation-row]")];
  const unallocated = form.querySelector("[data-unallocated]");
  const refresh = () => {
    const total = toMinor(amount.value || 0);
    const allocated = rows.reduce((sum, row) => sum + (toMinor(row.querySelector("input").value || 0) || 0), 0);
    unallocated.textContent = total === null ? "—" : `${show(total - allocated)} ${form.dataset.currency}`;
  };
  amount.addEventListener("input", () => {
    let remaining = toMinor(amount.value || 0) || 0;
    for (const row of rows) {
      const share = Math.max(0, Math.min(remaining, toMinor(row.dataset.balance)));
      row.querySelector("input").value = share ? show(share) : "";
      remaining -= share;
    }
    refresh();
  });
  rows.forEach((row) => row.querySelector("input").addEventListener("input", refresh));
})();
