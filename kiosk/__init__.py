"""The touchscreen kiosk residents use to file service requests (``servicepoint kiosk``).

How it is wired, inside out:

- ``flow``: the kiosk's flow state (steps, draft, validation, back/home, idle); no Kivy.
- ``catalog``: categories and places parsed from the server's JSON.
- ``api``: the HTTP client, the kiosk's only way to the server (``transport=`` seam).
- ``outbox`` and ``courier``: every request is kept on disk before it is sent, and sent again
  when the server is back; ``storage``: the catalog cache and the saved draft.
- ``voice``: spoken prompts behind the ``Speaker`` seam; ``qr``: QR codes in memory.
- ``i18n`` and ``theme``: every fixed word (zh_CN, en) and every colour and minimum size.
- ``ui`` and ``layout.kv``: the Kivy screens and ``KioskApp``; ``app``: the command.
- ``demo``, ``scenes`` and ``screenshots``: a stand-in server and every screen, for pictures
  and tests.
"""
