"""Files in and out: layer and asset files in every format, the one import entry for CLI
and upload, streamed batch answers. Imports ``layers.grid`` and ``layers.assets``.
"""
