"""Organisations' access to licences.

The access app decides who may see which licence (holder consent, statutory grants, API keys,
the field policy) and serves the organisations' REST API. It is kept apart from the licence
lifecycle (`licensing`) so that both stay small: the lifecycle never needs to know who reads a
licence, and access never changes one.
"""
