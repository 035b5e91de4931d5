"""City components (部件): the kinds and their IDs, the assets table, inspections and
campaigns, the asset as a Feature. Imports ``layers.db``, ``layers.grid``, ``layers.cases.queries``.
"""
