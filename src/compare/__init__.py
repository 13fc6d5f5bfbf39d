"""compare: line up what Chinese cities promise in their vocational-education plans.

The package is the pipeline, its modules named for what they make: registry and intake (the
corpus) → readers → clean (cleaned text, cleaning_log) → sections → tasks, citations → targets
(targets, target_mentions, rejected_numbers; with lexicon and metrics) → documents → analysis_units
→ tokens → vectors → section_pairs, document_similarity, shared_passages, keyness → pipeline (the
build) → tables, plotting, notebook and report (the site). README.md has the map.
"""

__version__ = "0.2.0"


def __getattr__(name: str):
    # compare.kwic(...) in a notebook, without importing pandas for every CLI start
    if name == "kwic":
        from .concordance import kwic

        return kwic
    raise AttributeError(f"module 'compare' has no attribute {name!r}")
