"""``avu explore``: a self-contained static site (no server, no network) to browse results.

* `persample`: per-sample values of each benchmark, computed with the functional kernels of
  `avu.metrics` one sample (or one chunk) at a time; the tests check they equal the records
  the evaluators keep.
* `inputs`: reads what the site shows: ``avu evaluate`` result files with their prediction
  files, or a reproducer report folder (tables, figures, the runs behind them).
* `images`: thumbnails and overlays (outlines with a dark halo, so they show on any frame).
* `site`: writes ``<out>/index.html`` and ``<out>/explore/`` (data pages, images, script).
"""
