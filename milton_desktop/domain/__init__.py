"""The domain: plain Python that imports nothing of the project but domain/."""
