"""The touchscreen kiosk residents use to file service requests (``servicepoint kiosk``).

How it is wired, top down (every import points down this list):

- ``cli``: the command line; configures Kivy's window, then starts ``app``.
- ``app`` (:class:`~kiosk.app.KioskApp`) with ``taps``: the App; one verb per tap, then
  ``sync()`` shows the flow's step. ``window_input``: any touch and the barcode scanner's
  keystrokes. ``errands``: the server calls on worker threads, answers back on the UI thread.
- ``screens``: the Kivy screens, one room per journey (request, staff, library) plus the shared
  widgets, each module with its ``.kv`` layout beside it.
- ``presenters``: what each screen says, worked out from the flow with no Kivy.
- ``flow``: the kiosk's state (steps, draft, validation, back/home, idle) per journey; no Kivy.
- ``catalog``: categories and places parsed from the server's JSON; ``lending``: the library's
  loans, readers and scans.
- ``api``: the HTTP client, the kiosk's only way to the server (``transport=`` seam).
- ``outbox`` and ``courier``: every request is kept on disk before it is sent, and sent again
  when the server is back; ``storage``: the catalog cache and the saved draft.
- ``voice``: spoken prompts behind the ``Speaker`` seam; ``qr``: QR codes in memory.
- ``i18n`` and ``theme``: every fixed word (zh_CN, en) and every colour and minimum size;
  ``settings``: the kiosk's own settings.
- ``tooling``: a stand-in server, every screen as a scene, screenshots and the demo's resident,
  for pictures, tests and the demo; it uses the app from outside.
"""
