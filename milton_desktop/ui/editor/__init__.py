"""The post editor."""
