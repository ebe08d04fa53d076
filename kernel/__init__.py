"""The shared kernel: what every app may import — money (formatting, the euro parser),
database helpers, admin mixins, the CSV writer, bank and company numbers, the four-eyes
registry, advisory-lock names, the base of domain refusals, links to committee decisions.

It imports no app of Caisse: apps import it, and where a mechanism must run app-specific
work, the app registers it at startup (see `kernel.four_eyes`).
"""
