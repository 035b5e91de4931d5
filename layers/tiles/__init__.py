"""Vector tiles: the tilesets and their SQL (``mvt``), each worker's tile cache (``cache``).

Imports ``layers.db`` and ``geo`` only.
"""
