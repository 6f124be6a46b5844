"""Placement: the inventory snapshot decisions read, dry-runs and joint batch placement."""
