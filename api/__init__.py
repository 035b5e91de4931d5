"""The wangge FastAPI application and the ``wangge`` command line."""
