"""The money engine: line and document totals, discounts, taxes and rounding, in pure
Decimal maths.

Its modules: `values` (inputs, results, errors), `rules` (what a valid input is and the
posting bound), `exact` (exact arithmetic and rounding helpers), `taxes` (the taxes of one
line), `line_totals` (`calculate_line`) and `document_totals` (`calculate_document`).

No ORM here: callers turn stored lines into `LineInput` (see `lines/pricing.py`) and get
back immutable results whose amounts all carry exactly the currency's digits.

Arithmetic runs in an exact Decimal context (additions and multiplications never round),
the only divisions (extracting inclusive taxes) are done on exact integer ratios, and every
rounding is an explicit ROUND_HALF_UP to the currency's digits at a documented point. So the
results never depend on the caller's Decimal context, and `subtotal + tax_total == total`
holds to the minor unit in both rounding modes.

Where rounding leaves a remainder:

- Exclusive prices: each tax is rounded half up on the rounded net (per line), or once per
  document on the unrounded nets (document rounding).
- Inclusive prices: each tax contained in the price is rounded half up on its own and the
  net is the rest, so the printed tax never rounds half down (GBP 9.99 with 20% VAT is
  1.67 VAT) and two taxes at one rate get equal amounts.
- Document rounding of inclusive prices: the taxes of all lines with the same taxes are
  rounded once; the resulting net is shared out over those lines in proportion to their
  amounts, then each line's tax over its taxes in proportion to the document's tax amounts
  (largest remainder, ties to the earlier line), so an odd minor unit that cannot be halved
  goes to one of two equal taxes on a line while the document shows them equal.
- A tax breakdown row's base is the sum of the bases the lines carrying that tax show
  (their subtotal, plus their first tax for a compound tax).
"""
