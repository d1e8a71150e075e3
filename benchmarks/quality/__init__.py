"""Search-quality benchmark: docstring queries against a docstring-free copy of real projects."""
