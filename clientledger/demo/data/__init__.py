"""The demo agency's data, plain declarations: `seeds` (their types), `agency` (team, taxes,
catalog, documents and payments), `clients`, `deals` and `retainers`."""
