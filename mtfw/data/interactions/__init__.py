"""Interaction data: users, items and user-item interactions, split per user or by user, with
negatives, per-user sequences, the sparse user-item matrix and the evaluation sets.

(``files`` registers ``data=interactions``; ``mtfw.data`` imports it.)"""
