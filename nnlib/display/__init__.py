"""Display: the course style and plots, live widgets, text artists and graph drawing.

See ``nnlib/__init__.py`` for the map of the package.
"""
