"""Connecting and managing accounts."""
