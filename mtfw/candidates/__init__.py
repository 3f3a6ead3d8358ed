"""Candidate sources of a ranking task's top-k lists: the multi-task model, a GAN, their union."""
