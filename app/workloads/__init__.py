"""Workloads: what operators submit (manifests plus placement intent)."""
