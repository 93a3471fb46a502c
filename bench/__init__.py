"""Benchmark: the material's FashionMNIST training loop against the course's fast path.

Run it with ``make bench`` (``.venv/bin/python -m bench``: 3 rounds of 3 epochs per
model and path) or quickly with ``python -m bench --rounds 1 --epochs 1 --subset 2000``.
Results go to ``build/bench/results.json`` and ``build/bench/results.png``; see
``python -m bench --help`` and ``bench/run.py``. ``python -m bench.profile_step``
shows where one TinyVGG training step spends its time, in each memory layout.
"""
