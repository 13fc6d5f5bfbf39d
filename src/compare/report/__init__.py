"""The report: parameterized notebooks run by papermill, rendered into a static site.

One module per job: :mod:`~compare.report.plan` (``notebooks/reports.yaml`` → every page),
:mod:`~compare.report.update` (the out-of-date pages, run on kept kernels: what ``make report`` runs),
:mod:`~compare.report.run` (papermill executes a page), :mod:`~compare.report.render` (an executed
notebook → its HTML page), :mod:`~compare.report.index` (the site's front page) and
:mod:`~compare.report.browser` (the site in headless Chromium: screenshots, and the site tests).
Notebooks read the processed tables with :mod:`compare.tables`.
"""
