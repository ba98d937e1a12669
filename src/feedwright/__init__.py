"""feedwright: turn a folder of front-matter posts into valid, stable RSS 2.0, Atom 1.0 and JSON Feed 1.1 feeds.

The pipeline, one module per step: ``config`` -> ``collect`` (with ``normalise`` and ``state``) -> ``render``
-> ``feeds`` -> ``serialise`` -> ``publish``; ``build`` runs them in order and ``cli`` is the command line.
"""

__version__ = "0.1.0"
