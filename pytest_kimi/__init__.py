"""pytest-kimi."""
