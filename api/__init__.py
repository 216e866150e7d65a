"""The REST service (FastAPI) over the optimizer; it imports optimizer, never the reverse.

``main`` builds the app from ``middleware``, ``routes`` (one router per resource) and
``deps``; the routes and the job ``worker`` call ``services``, which keep their data in
``db``. ``cli`` adds ``serve`` and ``keys`` to the ``budgetopt`` command.
"""
