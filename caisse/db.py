"""Small helpers for the hand-written SQL of hot paths."""


def model_order(model, *attnames: str) -> tuple[str, ...]:
    """`attnames` in the model's field order: the order Model.from_db() takes values in
    when only some fields are loaded, and so the order a hand-written SELECT must use."""
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in attnames)
