"""The semble benchmark (MinishLab/semble, MIT): developers' questions over 63 pinned repos.

`sync` brings the repositories to their pinned revisions, `evaluate` runs our search over
them and writes NDCG@10, MRR@10 and R@10 beside semble's published numbers. See README.md.
"""
