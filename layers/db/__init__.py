"""The tables (``models``), the shared vocabulary (``vocabulary``) and SQL helpers (``sql``).

Imports nothing else of ``layers``: every other sub-package builds on it.
"""
