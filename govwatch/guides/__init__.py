"""Service-guide (办事指南) checks and the portal crawler (issue 16; docs/guides.md).

- :mod:`govwatch.guides.elements`: the elements a guide must publish, and how each is read;
- :mod:`govwatch.guides.checks`: completeness, consistency with the implementation list, and
  practice (what the cases show, :mod:`govwatch.guides.practice`);
  :func:`govwatch.guides.checks.run_checks` is the public entry;
- :mod:`govwatch.guides.crawl`: reads a government portal's published guides into catalog
  records.
"""
