"""The JSON API under /api/v1/ (django-ninja), thin over services and selectors."""
