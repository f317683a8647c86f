"""The composition root: the one place that wires the spine, auth, the store and the APIs together."""
