"""``data.storage=disk``: flat tables larger than memory, preprocessed in streaming passes.

A CSV or parquet file (or a directory of parquet parts, or pre-split ``files``) is read in chunks
of ``data.disk.chunk_rows`` rows, never whole: a first pass assigns each row its split (a seeded
hash of the row number, or the newest rows by time, or the file it comes from), fits the
preprocessing on the train rows only (vocabularies counted, numeric moments accumulated) and
counts what the second pass needs; the second pass encodes every chunk and appends it to the
columnar cache (``mtfw.data.disk.cache``), memory-mapped ``.npy`` arrays in a folder keyed by the
files' checksums and the preprocessing spec. Training reads batches from the cache with
block-wise shuffling (``mtfw.data.disk.mapped_columns``): memory is bounded by the shuffle
buffer, not by the data. A second run with the same files and spec reuses the cache.
"""
