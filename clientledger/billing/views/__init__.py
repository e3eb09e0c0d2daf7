"""Staff pages for estimates and invoices. `documents` holds the pages every kind shares,
`estimates` and `invoices` each kind's own actions; `billing.kinds` declares which pages a kind
has and `billing.urls` routes them. Each view checks its permission, finds the document in the
request's agency, calls one service or selector, and shows a service's ValidationError next to
the field it names (or as a flash message when there is no form), having saved nothing."""
