"""Sample data that makes a fresh installation show something."""
