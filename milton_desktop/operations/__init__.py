"""The use cases: the only API the command line and the window change things through."""
