"""Placer: hybrid-cloud scheduling and placement for Kubernetes clusters."""
