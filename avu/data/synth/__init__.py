"""The procedurally generated audio-visual suite (``avu data synth``).

A seeded scene model (`catalog`, `scene`, `render`, `audio`) produces 10-second clips
with exact ground truth; one writer per benchmark (`writers`) samples the scenes that
benchmark needs and writes them in its official on-disk format; `generate` runs the
whole suite in parallel and records ``avu_suite.json``.
"""

GENERATOR_VERSION = "2.1"
