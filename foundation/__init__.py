"""The foundation every part of servicepoint stands on, and that imports none of them.

    foundation.errors     the error root, ``ServicepointError``, and ``ConfigError``
    foundation.settings   the TOML file and environment reader, and the sections every app shares
                          (each app's own class: server.settings, sensors.settings,
                          kiosk.settings)
    foundation.tomlfile   reading a TOML file with errors that name the file and the key
    foundation.logs       logging set-up for every command

The apps (``server``, ``sensors``, ``kiosk``) import from here; the top layer ``servicepoint``
(the command line, the demo, the doctor) imports the apps. Nothing here imports upward.
"""
