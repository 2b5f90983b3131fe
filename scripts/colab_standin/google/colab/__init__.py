"""A stand-in for Colab's ``google.colab`` package, for the Colab-like run (make colab).

Colab imports ``google.colab`` when its kernel starts; the course's set-up cell only
asks whether it is in ``sys.modules``. scripts/colab_check.py puts this folder on the
kernel's path and imports it from an IPython start-up file, as Colab does.
"""

STAND_IN = True
