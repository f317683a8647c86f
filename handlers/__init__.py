"""One package per API, one module per resource, one function per operationId.

Modules whose names start with an underscore hold helpers shared by a package's handlers; every
public function of every other module must be bound to an operation (`charter check`).
"""
