"""What concerns the whole server: the probes and the health of every dependency."""
