"""The HTTP surface: dependencies, error handlers, middleware and router mounting."""
