"""Cases (案件): intake, queries, the GB/T 30428 workflow, routing, categories, working
time and personal data. Imports ``layers.grid``, ``layers.assets``, ``layers.addresses``, ``layers.accounts``.
"""
