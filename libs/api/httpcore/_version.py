# The one version number of the project: the facade exports it, setup.py reads it (ast).
# Within 1.x so that httpx's `httpcore==1.*` requirement accepts this package.
__version__ = "1.0.9"
