"""The REST API, one module per concern: ``customers`` (timeline, profile, merge, files),
``interactions`` (the intake API), ``voice`` (the browser phone's token), ``work_items``
(replies with files, explanations, priority, reassignment), ``agents`` (presence set by a
supervisor) and ``reports`` (the bot report).

Shared by all of them: ``urls`` (mounted under ``api/``) with the ``<id:...>`` path converter
(``converters``), the one error body and exception handler (``errors``), the roles and the
acting agent (``permissions``), and the serializer bases and fields (``serializers``,
``fields``). A view parses its input with a request serializer, calls one service or
selector, and answers with a response serializer; errors are raised, never built by hand.
"""
