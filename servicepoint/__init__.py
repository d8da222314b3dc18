"""servicepoint: the kiosk, sensor node and server of a community service point.

This package holds only what every part shares: typed settings, logging set-up,
the error root and the ``servicepoint`` command line. The parts live in the
top-level packages ``server``, ``sensors`` and ``kiosk``.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
