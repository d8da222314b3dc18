"""Server-rendered web pages: the resident's phone page, volunteers' tasks, staff's dashboard.
See server/web/pages.py for the map."""
