"""Operations around a build: one locked, recorded run; the daemon and its schedule; the preview server; logs."""
