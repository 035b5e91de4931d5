"""The gazetteer: standard addresses, geocoding and reverse geocoding.

Imports ``layers.db`` and ``geo`` only.
"""
