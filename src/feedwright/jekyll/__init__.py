"""Jekyll sites as Jekyll itself reads them: ``_config.yml``, which files are posts, and the permalink language.

A site folder holding ``_config.yml`` is read through this package (see :func:`config.load_jekyll_site`); every
other site keeps feedwright's own ``feedwright.toml`` and ``content/`` rules.
"""
