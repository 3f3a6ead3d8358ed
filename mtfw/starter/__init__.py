"""``mtfw init``: a starter config folder for one's own CSV (data, a task per label, experiment).

Every column of the file is listed under the kind guessed for it (``column_kinds``), each label
gets a task type and label spec (``label_tasks``), columns that look derived from a label are
kept out of the inputs (``derived_columns``), and the files are written, never over existing ones
(``starter_files``).
"""
