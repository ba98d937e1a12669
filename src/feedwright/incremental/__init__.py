"""The only code that knows the cache: it avoids recomputing what the pipeline stages would compute again."""
