"""compare: line up what Chinese cities promise in their vocational-education plans.

The package is the pipeline, one module per stage: corpus (the registry) → readers (raw
files) → clean → sections → tasks / documents (citations) → targets (with metrics, the
catalogue) → tokens → similarity / reuse / vocabulary → plotting and report.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    # compare.kwic(...) in a notebook, without importing pandas for every CLI start
    if name == "kwic":
        from .vocabulary import kwic

        return kwic
    raise AttributeError(f"module 'compare' has no attribute {name!r}")
