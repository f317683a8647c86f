"""Charter's web spine: the app factory, configuration, errors and request middleware."""
