"""The NLPearl edge: client.py (typed async client), models.py, errors.py, statuses.py, names.py.

Nothing is imported here, so a builder that needs only the models never loads httpx.
"""
