"""Who acts: users and API keys, the actor of a request, the append-only audit log.

Imports ``layers.db`` and ``geo`` only.
"""
