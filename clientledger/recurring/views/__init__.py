"""Staff pages of recurring schedules: list, set up from scratch or from a won deal, one
schedule with its preview and invoices, settings, lines, pause, resume and end. Thin over
services and selectors; a service's refusal is shown as it words it.

`schedules` holds the reading pages, `setup` the new ones, `editing` the settings and lines,
`lifecycle` pause, resume and end."""
