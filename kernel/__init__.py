"""The shared kernel: small mechanisms every app uses (the CSV writer, bank and company
numbers, the four-eyes registry, advisory-lock names, the base of domain refusals).

It imports no app of Caisse: apps import it, and where a mechanism must run app-specific
work, the app registers it at startup (see `kernel.four_eyes`).
"""
