"""Reads for routing: the round snapshot (``snapshot``), queue lines and assignments
(``lines``), what consoles and chats are shown (``payloads``) and access checks (``access``)."""
