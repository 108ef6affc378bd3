"""Platform adapters: one module per platform, each with its Platform descriptor.

``registry`` finds them; ``base`` is the contract they implement; ``http`` is what
they share about talking to a platform over HTTP.
"""
