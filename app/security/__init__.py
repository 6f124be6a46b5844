"""Cryptographic building blocks shared by the services."""
