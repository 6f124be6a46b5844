"""Bearer tokens, roles and the authorization every route declares."""
