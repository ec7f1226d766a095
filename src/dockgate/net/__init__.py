"""Byte streams under the gateway and the engine relay: plain sockets and TLS that keeps half-close."""
