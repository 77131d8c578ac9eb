"""After-action reviews, lessons, playbooks, adoption and search."""
