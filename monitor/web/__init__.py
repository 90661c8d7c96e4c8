"""`newsmonitor serve`: the archive as web pages, Atom and JSON feeds of changes, and a
JSON API (issue 18). Read-only: nothing here writes to the store.

    app.py          the aiohttp application: routes, access control, security headers
    auth.py         who may read: loopback by default, else a token or users (scrypt)
    site.py         what views share: request values, templates, the diff cache, filters
    views.py        the HTML pages (Changes, Article, Feeds, Seeds, Alerts, raw captures)
    syndication.py  Atom 1.0 and JSON Feed 1.1 of changes, with the pages' filters
    api.py          /api/… documents from the CLI's --json serializers
    charts.py       inline SVG: changes per day, drift from a seed
"""
