"""avu: benchmark and reproducibility harness for unified audio-visual scene understanding."""

__version__ = "0.1.0"

#: The seven benchmark ids, used everywhere (CLI, configs, pytest markers, result keys).
BENCHMARK_IDS = ("ave", "llp", "vggss", "avs_s4", "avs_ms3", "avss", "avqa")

__all__ = ["__version__", "BENCHMARK_IDS"]
