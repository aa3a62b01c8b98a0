"""python3 -m webapp (with src/ on PYTHONPATH) starts the server."""
from webapp.server import serve

serve()
