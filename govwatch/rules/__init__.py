"""Electronic supervision (电子监察): the rule catalog, its engine, live alerts and the audit.

Public API: :func:`govwatch.rules.engine.audit` (stateless, over a loaded database),
:func:`govwatch.rules.live.evaluate_cases` and :func:`govwatch.rules.live.sweep` (the live
path on the operational database), :data:`govwatch.rules.registry.DEFAULT_RULES`.
"""
