"""What planners ask: hotspots, trends, repeats, coverage, KPIs and the monthly report.

Imports ``layers.grid``, ``layers.cases`` (working time) and ``geo``; nothing imports it
but ``api``.
"""
