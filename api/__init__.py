"""The web API, the pages and the ``wangge`` command line over ``layers`` and ``geo``.

Nothing in ``geo`` or ``layers`` imports it; ``api.routes`` import ``api.deps``, ``api``'s
helper modules and ``layers``, never another route.
"""
