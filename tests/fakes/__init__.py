"""Fake platform servers on 127.0.0.1 that enforce the documented contracts."""
