"""Typed answers: the pydantic models of every JSON success answer, so ``/openapi.json`` says
what comes back. Imports pydantic and the few dataclasses of ``layers`` it reuses; routes import these.
"""
