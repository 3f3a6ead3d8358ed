"""mtfw: config-driven multi-task learning for recommender systems."""

import os

# MKL may otherwise lower its thread count under load, changing float sums between runs of the
# same config; set before torch loads MKL (mtfw is imported first by the CLI).
os.environ.setdefault("MKL_DYNAMIC", "FALSE")

__version__ = "0.2.0"
