"""The web app: JSON API under /api/v1 (``govwatch.web.api``) and pages (``govwatch.web.pages``)."""
