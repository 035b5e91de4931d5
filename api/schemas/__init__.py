"""Typed answers: the pydantic models of every JSON success answer, so ``/openapi.json`` says
what comes back. Imports nothing of wangge but ``layers.db.vocabulary``; routes import these.
"""
