"""Communities of practice: a workspace's communities, bound to channels, and their members."""
