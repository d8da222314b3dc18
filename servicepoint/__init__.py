"""servicepoint: the kiosk, sensor node and server of a community service point.

This package is the top layer: the ``servicepoint`` command line, the demo that brings up the
whole system, and the doctor that checks a deployment. It imports the apps (``server``,
``sensors``, ``kiosk``, the last by name only); they and the ``foundation`` package under them
never import it.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
