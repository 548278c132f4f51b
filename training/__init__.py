"""Training pipeline: Kaggle folders -> a verified model bundle (see function/bundle_format.py)."""
