"""The language-server face of the engine (the only package that imports pygls)."""
