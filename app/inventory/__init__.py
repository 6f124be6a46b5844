"""The inventory as the clusters report it: reaching member clusters, and the periodic sync."""
