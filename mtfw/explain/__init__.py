"""``mtfw explain RUN_DIR``: which input fields drive each task of a finished run (permutation
importance with the task's own metric, integrated gradients on the field embeddings) and, for
gated encoders, which fields each expert responds to."""
