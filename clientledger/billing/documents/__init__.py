"""The typst PDFs of estimates and invoices: what they print, how they render, where they live."""
