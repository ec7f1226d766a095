"""Certificates for a quick, correct TLS setup: a CA, server and client certificates.

``issue`` makes them, ``names`` says which names a certificate may carry, ``files`` where they live
and how they are written, ``survey`` what a folder holds; ``errors`` are the refusals.
"""
