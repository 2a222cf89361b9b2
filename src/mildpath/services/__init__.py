"""Use cases: the one path by which the web app, the API, the CLI and imports read or change patient data.

Each function checks access, calls the domain, persists and writes its audit row in the caller's
transaction. None commits: the request or the command owns the transaction.
"""
