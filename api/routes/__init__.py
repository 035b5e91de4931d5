"""One router per resource. A route imports ``api.deps``, ``api.schemas``, ``api`` helpers and
``layers``; never another route (``tests/unit/test_imports.py`` checks).
"""
