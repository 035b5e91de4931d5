"""The domain of wangge on PostGIS: one sub-package per domain, each a room of the house.

May import ``geo`` and ``web`` (templates), never ``api``; sub-packages import each other
through their modules (``layers.db`` is imported by all and imports none of them).
"""
