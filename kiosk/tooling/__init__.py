"""Tooling around the kiosk, not part of what runs on the Pi: a stand-in server, every screen as a
named scene, the screenshot command and the demo's simulated resident.

- ``demo``: :class:`~kiosk.tooling.demo.DemoServer`, the server's answers in memory
  (``servicepoint kiosk --demo``, screenshots, tests);
- ``scenes``: every screen the kiosk can show, reached through the flow and the app's public
  methods;
- ``screenshots``: ``python -m kiosk.tooling.screenshots`` renders every scene in both languages;
- ``walkthrough``: the demo resident who taps a request in (``--demo-resident``), and the finger
  the tests tap with.

Everything here uses :class:`kiosk.app.KioskApp` from outside, through its public methods;
nothing in the app imports this package (the command line loads ``demo`` and ``walkthrough``
only when asked to).
"""
