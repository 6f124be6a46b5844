"""Logs, metrics and request ids: what operators see of a running service."""
