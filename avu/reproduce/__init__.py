"""``python -m avu.reproduce --table main``: our numbers beside the published ones.

`plan` decides which training runs a table needs, `runner` trains them (or reuses cached
runs keyed by config hash) and re-scores their predictions, `report` writes the tables
(markdown, JSON, LaTeX) and the pictures, `cli` ties them together.
"""
