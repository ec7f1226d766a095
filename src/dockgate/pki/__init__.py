"""Certificates for a quick, correct TLS setup: a CA, server and client certificates."""
