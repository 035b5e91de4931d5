"""The grid: areas and generations, their validation, the in-memory index and its holder,
and the one locating answer shared by HTTP and the CLI. Imports ``layers.db`` and ``geo``.
"""
