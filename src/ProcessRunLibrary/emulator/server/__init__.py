"""The emulator's HTTP face (aiohttp): `app.create_app` assembles the route tables of
`api/*`, `files` and `admin` behind the one middleware of `middleware`; `web` and `context`
are the leaves every route module shares."""
