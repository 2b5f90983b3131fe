"""Torch models of the course and their one training loop (imports torch).

See ``nnlib/__init__.py`` for the map of the package.
"""
