"""Spatial core of wangge: coordinate systems, partitioning, point location.

Pure functions on numpy arrays and shapely geometries; no web or database code.
"""
