"""Charter's web spine: the app factory, configuration, errors and request middleware."""

import warnings

# Connexion imports starlette's test client at import time; its httpx notice is not ours to act on.
warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
