"""The demo fund: `manage.py seed_demo` seeds every app through its services. No app
imports it (an import-linter contract keeps it so)."""
