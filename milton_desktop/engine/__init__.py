"""The publishing engine: claim, state machine, dispatch and the QtCore runner."""
