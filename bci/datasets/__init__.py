"""Recordings and public datasets -> continuous data and epochs (X, y, metadata)."""
