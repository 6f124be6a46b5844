"""Cluster inventory: credentials, geography and the cluster service."""
