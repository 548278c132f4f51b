"""The diagnosis function: a Lambda container (FastAPI + Mangum) that serves a verified model bundle.

Nothing in this package imports TensorFlow; training imports ``function.imaging``, ``function.gate``,
``function.classifier`` and ``function.bundle_format`` so that a model is served exactly as it was trained.
"""
